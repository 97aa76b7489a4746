package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestResilient(t *testing.T) {
	t.Parallel()
	primary := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(primary.Close)
	backup := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(backup.Close)
	var out strings.Builder
	require.NoError(t, run(t.Context(), &out, primary, backup))

	want := `1. Both chatbots are up.
alice (new conversation): "What are your opening hours?"
  answered in primary:cm5conv0001: You said: What are your opening hours?
  requests so far: primary 1, backup 0

2. The primary rate-limits the next request (429, retry after 60s): it was not processed.
bob (new conversation): "Do you ship abroad?"
  answered in backup:bob: Answer 1 to "Do you ship abroad?"
alice (continues primary:cm5conv0001): "And on Sundays?"
  answered in primary:cm5conv0001: You said: And on Sundays?
  requests so far: primary 3, backup 1

3. The primary starts failing with 500s: it may have processed the message, so nothing moves.
carol (new conversation): "Can I return an item?"
  error: workspace: 500 SERVER_ERROR (INTERNAL_ERROR): Internal server error
alice (continues primary:cm5conv0001): "Thanks!"
  error: workspace: 500 SERVER_ERROR (INTERNAL_ERROR): Internal server error
dave (new conversation): "Where is my order?"
  [breaker] workspace circuit closed -> open
  error: workspace: 500 SERVER_ERROR (INTERNAL_ERROR): Internal server error
  requests so far: primary 6, backup 1

4. The circuit is open: new conversations go to the backup without touching the primary.
erin (new conversation): "Do you have gift cards?"
  answered in backup:erin: Answer 1 to "Do you have gift cards?"
bob (continues backup:bob): "How long does shipping take?"
  answered in backup:bob: Answer 2 to "How long does shipping take?"
alice (continues primary:cm5conv0001): "One more question"
  refused at once: the workspace circuit is open (not sent)
  requests so far: primary 6, backup 3
`
	assert.Equal(t, want, out.String())
	assert.Equal(t, 6, primary.Count(), "a 500 is never retried on the backup, and an open circuit sends nothing")
	assert.Equal(t, 3, backup.Count())
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	err := start([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out.String(), "the demo did not run")
}
