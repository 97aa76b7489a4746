package cli_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/examples/internal/cli"
)

func TestExitCode(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 0, cli.ExitCode(&stderr, "x", nil))
	assert.Equal(t, 0, cli.ExitCode(&stderr, "x", fmt.Errorf("parsing: %w", flag.ErrHelp)), "-h is not a failure")
	assert.Empty(t, stderr.String())
	assert.Equal(t, 1, cli.ExitCode(&stderr, "x", errors.New("boom")))
	assert.Equal(t, "x: boom\n", stderr.String())
}

func TestContextEndsOnSIGTERM(t *testing.T) {
	ctx, stop := cli.Context()
	defer stop()
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	<-ctx.Done() // the test hangs (and times out) if SIGTERM is not handled
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}
