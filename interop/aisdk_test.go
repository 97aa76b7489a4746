package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/relay"
)

// uiMessage is the part of the AI SDK's UIMessage the test reads.
type uiMessage struct {
	ID       string
	Role     string
	Metadata map[string]any
	Parts    []struct {
		Type     string
		Text     string
		State    string
		SourceID string
		URL      string
		Title    string
		// A tool part ("tool-<name>"): the action the page is to run.
		ToolCallID string
		Input      map[string]any
	}
}

// text is the message's reply: its last text part (relay starts a new one
// for a Replace chunk).
func (m *uiMessage) text() string {
	t := ""
	for _, p := range m.Parts {
		if p.Type == "text" {
			t = p.Text
		}
	}
	return t
}

type readResult struct {
	API     string
	Message *uiMessage
	Errors  []string
	Thrown  *string
}

func TestAISDKReadsTheRelay(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err, "install Debian's nodejs")
	_, err = os.Stat("node_modules/ai/package.json")
	require.NoError(t, err, "run npm ci in interop/")

	usage := &chatbot.Usage{InputTokens: 12, OutputTokens: 5, TotalTokens: 17, Price: "0.0000760", Currency: "USD"}
	mux := http.NewServeMux()
	var got []chatbot.Request
	var mu sync.Mutex
	handle := func(path string, chunks []chatbot.Chunk, err error) {
		mux.Handle("POST "+path, relay.Handler(scripted{chunks: chunks, err: err}, func(r *http.Request) (chatbot.Request, error) {
			req, err := relay.DecodeJSON(r)
			mu.Lock()
			got = append(got, req)
			mu.Unlock()
			return req, err
		}))
	}
	handle("/ok", []chatbot.Chunk{
		{Text: "It costs ", ConversationID: "conv-1", MessageID: "msg-1"},
		{Text: "9 €", ConversationID: "conv-1", MessageID: "msg-1",
			Sources: []chatbot.Source{{ID: "doc-1", Title: "Pricing", URL: "https://example.com/pricing", Snippet: "From 9 €", Score: 0.8}}},
		{Text: " a month.", ConversationID: "conv-1", MessageID: "msg-1",
			Sources: []chatbot.Source{{ID: "doc-2", Title: "Plans.pdf"}}},
		{ConversationID: "conv-1", MessageID: "msg-1", Done: true, FinishReason: chatbot.FinishComplete, Usage: usage},
	}, nil)
	handle("/replace", []chatbot.Chunk{{Text: "bad words"}, {Text: "[removed]", Replace: true, Done: true, FinishReason: chatbot.FinishContentFilter}}, nil)
	handle("/mid", []chatbot.Chunk{{Text: "Partial", ConversationID: "conv-2"}, {Text: " text"}}, chatbottest.ServerError())
	handle("/before", nil, chatbottest.RateLimited(7*time.Second))
	handle("/action", []chatbot.Chunk{{Text: "Let me check.", MessageID: "msg-3"}, {Done: true, FinishReason: chatbot.FinishActionRequired,
		Actions: []chatbot.Action{{ID: "call-1", Name: "lookup", Input: json.RawMessage(`{"q":"price"}`)}}}}, nil)
	// /ping holds the reply until a heartbeat comment went out between two
	// deltas, which the ai package's SSE parser must skip.
	pinged := make(chan struct{})
	mux.Handle("POST /ping", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		relay.Handler(pingBot{pinged}, nil, relay.WithHeartbeat(time.Millisecond)).ServeHTTP(&pingWatch{ResponseWriter: w, pinged: pinged}, r)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	cmd := exec.CommandContext(t.Context(), node, "read.mjs", srv.URL+"/ok", srv.URL+"/replace", srv.URL+"/mid", srv.URL+"/before", srv.URL+"/ping", srv.URL+"/action")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	results := map[string]readResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r readResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		results[r.API[len(srv.URL):]] = r
	}
	require.Len(t, results, 6, string(out))

	t.Run("normal reply", func(t *testing.T) {
		r := results["/ok"]
		require.Nil(t, r.Thrown)
		require.Empty(t, r.Errors)
		require.NotNil(t, r.Message)
		m := r.Message
		assert.Equal(t, "msg-1", m.ID)
		assert.Equal(t, "assistant", m.Role)
		assert.Equal(t, "It costs 9 € a month.", m.text())
		var sources []string
		for _, p := range m.Parts {
			switch p.Type {
			case "text":
				assert.Equal(t, "done", p.State)
			case "source-url", "source-document":
				sources = append(sources, p.Type+" "+p.SourceID+" "+p.Title+" "+p.URL)
			}
		}
		assert.Equal(t, []string{"source-url doc-1 Pricing https://example.com/pricing", "source-document doc-2 Plans.pdf "}, sources)
		assert.Equal(t, map[string]any{
			"conversationId": "conv-1", "messageId": "msg-1", "finishReason": "complete",
			"usage": map[string]any{"inputTokens": 12.0, "outputTokens": 5.0, "totalTokens": 17.0, "price": "0.0000760", "currency": "USD"},
		}, m.Metadata)
	})
	t.Run("replace", func(t *testing.T) {
		r := results["/replace"]
		require.Nil(t, r.Thrown)
		require.NotNil(t, r.Message)
		assert.Equal(t, "[removed]", r.Message.text())
	})
	t.Run("heartbeat", func(t *testing.T) {
		r := results["/ping"]
		require.Nil(t, r.Thrown)
		require.Empty(t, r.Errors)
		require.NotNil(t, r.Message)
		assert.Equal(t, "before ping, after ping", r.Message.text())
	})
	t.Run("a reply waiting for an action", func(t *testing.T) {
		r := results["/action"]
		require.Nil(t, r.Thrown)
		require.Empty(t, r.Errors, "a finish, not an error")
		require.NotNil(t, r.Message)
		m := r.Message
		assert.Equal(t, "Let me check.", m.text())
		require.Len(t, m.Parts, 2, "text, tool")
		tool := m.Parts[1]
		assert.Equal(t, "tool-lookup", tool.Type)
		assert.Equal(t, "input-available", tool.State)
		assert.Equal(t, "call-1", tool.ToolCallID)
		assert.Equal(t, map[string]any{"q": "price"}, tool.Input)
		assert.Equal(t, map[string]any{"messageId": "msg-3", "finishReason": "action_required"}, m.Metadata)
	})
	t.Run("error mid-stream", func(t *testing.T) {
		r := results["/mid"]
		require.Nil(t, r.Thrown)
		require.NotNil(t, r.Message)
		assert.Equal(t, "Partial text", r.Message.text(), "the partial text stays")
		assert.Equal(t, "conv-2", r.Message.Metadata["conversationId"])
		require.Len(t, r.Errors, 1)
		var body struct{ Code, Message string }
		require.NoError(t, json.Unmarshal([]byte(r.Errors[0]), &body), r.Errors[0])
		assert.Equal(t, relay.CodeUpstreamError, body.Code)
	})
	t.Run("error before the first byte", func(t *testing.T) {
		r := results["/before"]
		require.NotNil(t, r.Thrown)
		assert.Nil(t, r.Message)
		var body struct {
			Code       string
			RetryAfter int
		}
		require.NoError(t, json.Unmarshal([]byte(*r.Thrown), &body), *r.Thrown)
		assert.Equal(t, relay.CodeRateLimited, body.Code)
		assert.Equal(t, 7, body.RetryAfter)
	})
	t.Run("the transport's body is decoded", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, got)
		assert.Equal(t, chatbot.Request{Message: "What does it cost?", ConversationID: "conv-from-page", History: []chatbot.Message{
			{Role: chatbot.RoleUser, Text: "Hi"}, {Role: chatbot.RoleAssistant, Text: "Hello"},
		}}, got[0])
	})
}

// pingBot answers "before ping, ", then waits for pinged before the rest.
type pingBot struct{ pinged chan struct{} }

func (b pingBot) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(b.Stream(ctx, req))
}

func (b pingBot) Stream(ctx context.Context, _ chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		if !yield(chatbot.Chunk{Text: "before ping, "}, nil) {
			return
		}
		select {
		case <-b.pinged:
		case <-ctx.Done():
			yield(chatbot.Chunk{}, ctx.Err())
			return
		}
		if yield(chatbot.Chunk{Text: "after ping"}, nil) {
			yield(chatbot.Chunk{Done: true}, nil)
		}
	}
}

// pingWatch closes pinged when a heartbeat comment is written.
type pingWatch struct {
	http.ResponseWriter
	pinged chan struct{}
	once   sync.Once
}

func (w *pingWatch) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if bytes.HasPrefix(p, []byte(": ping")) {
		w.once.Do(func() { close(w.pinged) })
	}
	return n, err
}

// Unwrap lets http.ResponseController flush the underlying writer.
func (w *pingWatch) Unwrap() http.ResponseWriter { return w.ResponseWriter }
