package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// buffer is a strings.Builder safe for concurrent use.
type buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

const wantDemo = `Receiving webhooks on a free loopback port, delivered by the SDK's built-in fakes (no network).
deliver pollybot LEAD_CREATED, signed
  pollybot: LEAD_CREATED: lead cm5lead789xyz, Ada Lovelace <ada@example.com>, status "new"
  -> 200 OK (accepted)
deliver pollybot LEAD_CREATED again (a retry of the same delivery)
  pollybot: LEAD_CREATED again (LEAD_CREATED:cm5lead789xyz), already handled
  -> 200 OK (accepted)
deliver pollybot CONVERSATION_ENDED, signed
  pollybot: CONVERSATION_ENDED (no typed form): data {"conversationId":"cm5abc123xyz456"}
  -> 200 OK (accepted)
deliver pollybot LEAD_CREATED, one byte changed after signing
  -> 401 Unauthorized (rejected)
deliver pollybot LEAD_CREATED, signed with another secret
  -> 401 Unauthorized (rejected)
deliver pollybot LEAD_CREATED replayed an hour later, its timestamp moved into the body
  -> 401 Unauthorized (rejected)
deliver sitegpt ADD_MESSAGE, with the token
  sitegpt: ADD_MESSAGE in thread 06b3b43c-5651-49a2-b618-000000000001: "Do you ship to Norway?" answered "Yes, in 3 to 5 working days."
  -> 200 OK (accepted)
deliver sitegpt ADD_MESSAGE, with a wrong token
  -> 401 Unauthorized (rejected)
deliver chatbase leads.submit, signed
  chatbase: leads.submit for agent 5QHA6VB-DIAbBhxwqxfdi in conversation conv_0001: Grace Hopper <grace@example.com>, phone "+1 202 555 0142"
  -> 200 OK (accepted)
deliver chatbase leads.submit again (delivered twice)
  chatbase: leads.submit again, already handled
  -> 200 OK (accepted)
deliver chatbase leads.submit, one byte changed after signing
  -> 401 Unauthorized (rejected)

To receive real deliveries, set WORKSPACE_WEBHOOK_SECRET, SITEGPT_WEBHOOK_TOKEN or CHATBASE_WEBHOOK_SECRET.
`

func TestWebhooksDemo(t *testing.T) {
	t.Parallel()
	var out buffer
	require.NoError(t, run(t.Context(), nil, &out, env(nil), nil))
	assert.Equal(t, wantDemo, out.String())
	assert.NotContains(t, out.String(), workspacetest.DefaultWebhookSecret)
	assert.NotContains(t, out.String(), sitegpttest.DefaultWebhookToken)
	assert.NotContains(t, out.String(), chatbasetest.DefaultWebhookSecret)
}

// TestReplayWasAuthenticWhenRecorded checks that the demo's refused replay
// is made from a genuine delivery: split back into body and timestamp, it
// verifies at the time it was recorded, and its signature is the MAC of the
// replayed body alone. Refusing it is therefore the scheme's doing, not a
// wrong signature's.
func TestReplayWasAuthenticWhenRecorded(t *testing.T) {
	t.Parallel()
	secret := workspacetest.DefaultWebhookSecret
	at := time.Unix(1_765_000_000, 0)
	lead := workspacetest.LeadCreated(map[string]any{"id": "l1"})
	body, sig, err := timestampMovedIntoBody(secret, lead, at)
	require.NoError(t, err)

	ts := strconv.FormatInt(at.Unix(), 10)
	recorded, ok := bytes.CutSuffix(body, []byte(ts))
	require.True(t, ok, "the body ends with the timestamp's digits")
	header := http.Header{workspace.WebhookSignatureHeader: {sig}, workspace.WebhookTimestampHeader: {ts}}
	require.NoError(t, workspace.VerifyWebhook(secret, header, recorded,
		workspace.WithWebhookClock(func() time.Time { return at })), "the recorded delivery was authentic")
	assert.Equal(t, workspace.SignWebhook(secret, body, ""), sig, "the signature covers the replayed body alone")

	err = workspace.VerifyWebhook(secret, http.Header{workspace.WebhookSignatureHeader: {sig}}, body,
		workspace.WithWebhookClock(func() time.Time { return at }))
	require.ErrorIs(t, err, workspace.ErrWebhookSignature)
}

// serve runs the example with the environment vars on a free loopback
// port, as with real credentials. It returns the receiver's base URL and
// stop, which stops the example and returns what it printed.
func serve(t *testing.T, vars map[string]string) (base string, stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan string, 1)
	result := make(chan error, 1)
	var out buffer
	go func() {
		result <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &out, env(vars), func(addr string) { addrs <- addr })
	}()
	select {
	case addr := <-addrs:
		base = "http://" + addr
	case err := <-result:
		cancel()
		require.FailNow(t, "the example ended before it listened", "%v", err)
	}
	return base, func() string {
		cancel()
		require.NoError(t, <-result)
		return out.String()
	}
}

// TestWebhooksWithCredentials serves real deliveries: the secret and token
// come from the environment, and the fakes play the providers.
func TestWebhooksWithCredentials(t *testing.T) {
	t.Parallel()
	const secret, token, cbSecret = "whsec_from_the_environment_0123", "token-from-the-environment", "cb-secret-from-the-environment"
	base, stop := serve(t, map[string]string{secretVar: secret, tokenVar: token, chatbaseVar: cbSecret})

	lead := workspacetest.LeadCreated(map[string]any{"id": "l1", "name": "Grace", "email": "grace@example.com"})
	msg := sitegpttest.AddMessage("bot", "t1", "Hi", "Hello")
	cbLead := chatbasetest.LeadsSubmit("agent1", "c1", "Ada", "ada@example.com", "")
	for _, d := range []struct {
		name    string
		deliver func() (int, error)
		want    int
	}{
		{"pollybot, the secret", func() (int, error) {
			return workspacetest.DeliverWebhook(t.Context(), base+"/webhooks/pollybot", secret, lead)
		}, http.StatusOK},
		{"pollybot, the fakes' default secret", func() (int, error) {
			return workspacetest.DeliverWebhook(t.Context(), base+"/webhooks/pollybot", workspacetest.DefaultWebhookSecret, lead)
		}, http.StatusUnauthorized},
		{"sitegpt, the token", func() (int, error) {
			return sitegpttest.DeliverWebhook(t.Context(), base+"/webhooks/sitegpt", token, msg)
		}, http.StatusOK},
		{"sitegpt, the fakes' default token", func() (int, error) {
			return sitegpttest.DeliverWebhook(t.Context(), base+"/webhooks/sitegpt", sitegpttest.DefaultWebhookToken, msg)
		}, http.StatusUnauthorized},
		{"chatbase, the secret", func() (int, error) {
			return chatbasetest.DeliverWebhook(t.Context(), base+"/webhooks/chatbase", cbSecret, cbLead)
		}, http.StatusOK},
		{"chatbase, the fakes' default secret", func() (int, error) {
			return chatbasetest.DeliverWebhook(t.Context(), base+"/webhooks/chatbase", chatbasetest.DefaultWebhookSecret, cbLead)
		}, http.StatusUnauthorized},
	} {
		code, err := d.deliver()
		require.NoError(t, err, d.name)
		assert.Equal(t, d.want, code, d.name)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/webhooks/sitegpt", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	text := stop()
	assert.Contains(t, text, "Receiving webhooks on 127.0.0.1:")
	assert.Contains(t, text, ": POST /webhooks/pollybot, /webhooks/sitegpt, /webhooks/chatbase. Ctrl-C stops.\n")
	assert.Contains(t, text, `  pollybot: LEAD_CREATED: lead l1, Grace <grace@example.com>, status ""`+"\n")
	assert.Contains(t, text, `  sitegpt: ADD_MESSAGE in thread t1: "Hi" answered "Hello"`+"\n")
	assert.Contains(t, text, `  chatbase: leads.submit for agent agent1 in conversation c1: Ada <ada@example.com>, phone ""`+"\n")
	assert.Equal(t, 3, strings.Count(text, "  pollybot: ")+strings.Count(text, "  sitegpt: ")+strings.Count(text, "  chatbase: "), text)
	assert.NotContains(t, text, secret)
	assert.NotContains(t, text, token)
	assert.NotContains(t, text, cbSecret)
}

// TestWebhooksServesOnlyWhatIsConfigured sets Chatbase's secret alone: only
// its receiver is served, and the others' paths are not found.
func TestWebhooksServesOnlyWhatIsConfigured(t *testing.T) {
	t.Parallel()
	const cbSecret = "cb-secret-from-the-environment"
	base, stop := serve(t, map[string]string{chatbaseVar: cbSecret})

	code, err := chatbasetest.DeliverWebhook(t.Context(), base+"/webhooks/chatbase", cbSecret,
		chatbasetest.LeadsSubmit("agent1", "c1", "Ada", "ada@example.com", ""))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	code, err = workspacetest.DeliverWebhook(t.Context(), base+"/webhooks/pollybot", workspacetest.DefaultWebhookSecret,
		workspacetest.LeadCreated(map[string]any{"id": "l1"}))
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, code)

	text := stop()
	assert.Contains(t, text, ": POST /webhooks/chatbase. Ctrl-C stops.\n")
	assert.Equal(t, 1, strings.Count(text, "  chatbase: "), text)
}

func TestHelpPrintsUsageAndRunsNothing(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"-h"}, &out, env(nil), func(string) { t.Error("the receiver started") })
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Empty(t, out.String(), "the demo did not run")
	assert.Equal(t, 0, cli.ExitCode(io.Discard, "webhooks", err))
}
