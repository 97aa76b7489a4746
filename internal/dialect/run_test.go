package dialect_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// hangGuard bounds every wait of these tests; it is never reached when the
// code under test works.
const hangGuard = 30 * time.Second

// TestRunOnEventSeesTaskIDBeforeTheStreamEnds: a provider's hook sees the
// Dify task id of the first event while the server still holds the rest of
// the stream back, so the provider can stop the run mid-stream.
func TestRunOnEventSeesTaskIDBeforeTheStreamEnds(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"event\":\"message\",\"task_id\":\"task-9\",\"answer\":\"Hi\"}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-seen:
		case <-time.After(hangGuard):
			assert.Fail(t, "the hook never saw the task id")
			return
		}
		_, _ = io.WriteString(w, "data: {\"event\":\"message_end\",\"task_id\":\"task-9\"}\n\n")
	}))
	t.Cleanup(srv.Close)
	rc := newClient(t, srv.URL)
	var taskIDs []string
	chunks, err := stream(t, rc, dialect.Dify, dialect.Options{OnEvent: func(e *dialect.Event) error {
		if e.TaskID != "" {
			taskIDs = append(taskIDs, e.TaskID)
			select {
			case seen <- e.TaskID:
			default:
			}
		}
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, []string{"task-9", "task-9"}, taskIDs)
	require.Len(t, chunks, 2)
	assert.Equal(t, "Hi", chunks[0].Text)
	assert.True(t, chunks[1].Done)
}

// TestRunOnEventMapsAndFails: the hook may change an event (map a
// provider's own metadata onto Usage) and may end the stream with an error,
// which comes after the text received before it.
func TestRunOnEventMapsAndFails(t *testing.T) {
	t.Parallel()
	body := "data: {\"type\":\"text-delta\",\"delta\":\"Hi\"}\n\n" +
		"data: {\"type\":\"finish\",\"finishReason\":\"stop\",\"messageMetadata\":{\"cost\":7}}\n\n"
	header := http.Header{"Content-Type": {"text/event-stream"}}
	mapCost := func(e *dialect.Event) error {
		if len(e.Metadata) > 0 {
			e.Usage = &chatbot.Usage{Credits: 7}
		}
		return nil
	}
	chunks, err := stream(t, serveBody(t, header, []byte(body), 0), dialect.UIMessage, dialect.Options{OnEvent: mapCost})
	require.NoError(t, err)
	require.Len(t, chunks, 2)
	assert.Equal(t, &chatbot.Usage{Credits: 7}, chunks[1].Usage)
	assert.Equal(t, chatbot.FinishComplete, chunks[1].FinishReason)

	errStop := errors.New("stop here")
	fail := func(e *dialect.Event) error {
		if e.End {
			return errStop
		}
		return nil
	}
	chunks, err = stream(t, serveBody(t, header, []byte(body), 0), dialect.UIMessage, dialect.Options{OnEvent: fail})
	require.ErrorIs(t, err, errStop)
	require.Len(t, chunks, 1)
	assert.Equal(t, "Hi", chunks[0].Text)
	assert.False(t, chunks[0].Done)
}

// TestRunRedactsErrorEvents: an error event that echoes the API key, in its
// message or its code, never passes the key on.
func TestRunRedactsErrorEvents(t *testing.T) {
	t.Parallel()
	body := "data: {\"event\":\"message\",\"answer\":\"a\"}\n\n" +
		"data: {\"event\":\"error\",\"status\":401,\"code\":\"" + testKey + "\",\"message\":\"bad key " + testKey + "\"}\n\n"
	_, err := stream(t, serveBody(t, http.Header{"Content-Type": {"text/event-stream"}}, []byte(body), 0), dialect.Dify, dialect.Options{})
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, apiErr.Message, testKey)
	assert.NotContains(t, apiErr.ProviderCode, testKey)
	assert.Equal(t, chatbot.CodeUnauthorized, apiErr.Code, "classified by the status the event names")
	assert.Equal(t, 0, apiErr.StatusCode, "the response itself succeeded")
}

// TestRunConsumerStops: a consumer that breaks out of the loop stops the
// stream at once; nothing more is decoded.
func TestRunConsumerStops(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("data: {\"type\":\"text-delta\",\"delta\":\"x\"}\n\n", 100)
	rc := serveBody(t, http.Header{"Content-Type": {"text/event-stream"}}, []byte(body), 0)
	var events int
	seq := open(t, rc, func(resp *rest.Response, body *rest.Body, w *rest.ChunkWriter) error {
		return dialect.Run(rc, body, w, dialect.New(dialect.UIMessage, resp.Header), dialect.Options{
			OnEvent: func(*dialect.Event) error { events++; return nil },
		})
	})
	for ch, err := range seq {
		require.NoError(t, err)
		assert.Equal(t, "x", ch.Text)
		break
	}
	assert.Equal(t, 1, events)
}

// TestRunText: a raw text body is yielded byte for byte, but for a byte
// order mark opening it; an empty body is no reply.
func TestRunText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body, want string
		err              error
	}{
		{name: "BOM dropped", body: "\uFEFFHello \uFEFF", want: "Hello \uFEFF"},
		{name: "only a BOM", body: "\uFEFF", err: dialect.ErrNoReply},
		{name: "empty", body: "", err: dialect.ErrNoReply},
	} {
		for _, size := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/%d-byte writes", tt.name, size), func(t *testing.T) {
				t.Parallel()
				rc := serveBody(t, http.Header{"Content-Type": {"text/plain"}}, []byte(tt.body), size)
				reply, err := chatbot.Collect(open(t, rc, func(_ *rest.Response, body *rest.Body, w *rest.ChunkWriter) error {
					return dialect.RunText(rc, body, w)
				}))
				if tt.err != nil {
					require.ErrorIs(t, err, tt.err)
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, reply.Text)
			})
		}
	}
}

func TestDialectString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "sniff", dialect.Sniff.String())
	assert.Equal(t, "dify", dialect.Dify.String())
	assert.Equal(t, "plain", dialect.Plain.String())
	assert.Equal(t, "unknown", dialect.Dialect(200).String())
	assert.Equal(t, dialect.Sniff, dialect.New(dialect.Dialect(200), nil).Dialect(), "an unknown dialect sniffs")
}
