package main

import (
	"flag"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/examples/internal/bots"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
)

func TestMultiproviderTable(t *testing.T) {
	t.Parallel()
	const question = "Hello there"
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"-pace", "0", "-question", question}, &out, nil))
	text := out.String()

	// The table is the block of lines that starts with its header.
	_, table, ok := strings.Cut(text, "provider  mode")
	require.True(t, ok, text)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	var rows [][]string
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, "(") {
			break
		}
		rows = append(rows, strings.Fields(line))
	}
	require.Len(t, rows, len(bots.Names()), text)
	for i, name := range bots.Names() {
		row := rows[i]
		require.Len(t, row, 6, "row %q", row)
		assert.Equal(t, name, row[0])
		assert.Equal(t, "fake", row[1])
		assert.Equal(t, strconv.Itoa(utf8.RuneCountInString(bots.DemoAnswer(name, question))), row[4], name)
		assert.Equal(t, "ok", row[5])
		assert.Contains(t, text, "\n  "+bots.DemoAnswer(name, question)+"\n")
	}
}

func TestHelpIsNotAFailure(t *testing.T) {
	err := run(t.Context(), []string{"-h"}, io.Discard, nil)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "multiprovider", err))
}
