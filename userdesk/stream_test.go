package userdesk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
)

// multilingual mixes 2-, 3- and 4-byte characters, including an emoji with a
// skin-tone modifier and a flag.
const multilingual = "Café déjà vu, naïve façade — 東京タワーは高い。 Emoji: 🎉👍🏽🇫🇷 and ñ at the end: ü"

// waitDisconnect waits until the server sees its client leave.
func waitDisconnect(t *testing.T, srv *userdesktest.Server) {
	t.Helper()
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		require.Fail(t, "the server never saw the client leave")
	}
}

func TestStreamUTF8OneByteWrites(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 3, 5, 0} {
		t.Run(fmt.Sprintf("write size %d", size), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			srv.SetReply(multilingual)
			srv.SplitWrites(size)

			var (
				text   strings.Builder
				chunks int
				done   int
			)
			for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: mustConversation(t, c)}) {
				require.NoError(t, err)
				assert.True(t, utf8.ValidString(chunk.Text), "chunk %q splits a character", chunk.Text)
				assert.Equal(t, "conv-1", chunk.ConversationID)
				text.WriteString(chunk.Text)
				chunks++
				if chunk.Done {
					done++
				}
			}
			assert.Equal(t, multilingual, text.String())
			assert.Equal(t, 1, done, "exactly one Done chunk")
			assert.GreaterOrEqual(t, chunks, 2, "text chunks then the Done chunk")
		})
	}
}

// mustConversation creates a conversation to stream into.
func mustConversation(t *testing.T, c *userdesk.Client) string {
	t.Helper()
	conv, err := c.CreateConversation(t.Context(), userdesk.ConversationRequest{})
	require.NoError(t, err)
	return conv.ConversationID
}

func TestStreamYieldsEachPieceAsItArrives(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.SetReply("Hello", ", world")
	// The server writes "Hello" and then stalls until the client leaves: the
	// test can only pass if "Hello" is yielded before the body ends.
	srv.StallAfter(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // bounds a buffering bug
	defer cancel()

	var got string
	for chunk, err := range c.Stream(ctx, chatbot.Request{Message: "hi", ConversationID: mustConversation(t, c)}) {
		require.NoError(t, err)
		got += chunk.Text
		if got == "Hello" {
			break
		}
	}
	assert.Equal(t, "Hello", got)
	waitDisconnect(t, srv)
}

func TestStreamCreatesConversation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.SetReply("Hi Ada")

	var chunks []chatbot.Chunk
	for chunk, err := range c.Stream(t.Context(), chatbot.Request{
		Message: "hello",
		User:    chatbot.User{Name: "Ada", Email: "ada@example.com"},
	}) {
		require.NoError(t, err)
		chunks = append(chunks, chunk)
	}
	require.NotEmpty(t, chunks)
	for _, chunk := range chunks {
		assert.Equal(t, "conv-1", chunk.ConversationID)
	}
	assert.True(t, chunks[len(chunks)-1].Done)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/v1/chatbot/bot-1/conversation", reqs[0].Path)
	assert.JSONEq(t, `{"userName":"Ada","userEmail":"ada@example.com"}`, string(reqs[0].Body))
	assert.Equal(t, "/v1/chatbot/bot-1/message", reqs[1].Path)
	assert.JSONEq(t, `{"message":"hello","stream":true,"conversationId":"conv-1","userName":"Ada","userEmail":"ada@example.com"}`, string(reqs[1].Body))

	conv, ok := srv.Conversation("conv-1")
	require.True(t, ok)
	assert.Equal(t, "Ada", conv.UserName)
	assert.Equal(t, []string{"hello"}, conv.Messages)
	assert.Equal(t, 1, srv.Conversations(), "the message went into the created conversation")
}

func TestStreamCollectCarriesConversation(t *testing.T) {
	t.Parallel()
	_, c := setup(t)

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hello"}))
	require.NoError(t, err)
	assert.Equal(t, "You said: hello", reply.Text)
	assert.Equal(t, "conv-1", reply.ConversationID)
	assert.Nil(t, reply.Raw)
}

func TestStreamWithConversationIDCreatesNone(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	id := mustConversation(t, c)

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "again", ConversationID: id}))
	require.NoError(t, err)
	assert.Equal(t, id, reply.ConversationID)
	assert.Len(t, requestsTo(srv, "/conversation"), 1, "only the test's own conversation")
	msgs := requestsTo(srv, "/message")
	require.Len(t, msgs, 1)
	assert.Equal(t, id, msgs[0].JSON()["conversationId"])
	assert.Equal(t, "text/plain, application/json", msgs[0].Header.Get("Accept"))
}

func TestStreamConversationCreationFails(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.FailNext(1, userdesktest.Failure{Status: http.StatusForbidden})

	var pairs int
	var last error
	for _, err := range c.Stream(t.Context(), chatbot.Request{Message: "hello"}) {
		pairs++
		last = err
	}
	assert.Equal(t, 1, pairs)
	require.ErrorIs(t, last, chatbot.ErrForbidden)
	assert.Empty(t, requestsTo(srv, "/message"), "no message without a conversation")
}

func TestStreamPrefersHeaderConversationID(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"X-Conversation-Id", "Conversation-Id"} {
		t.Run(header, func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set(header, "from-header")
				_, _ = w.Write([]byte("streamed"))
			}))
			t.Cleanup(hs.Close)
			c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL))
			require.NoError(t, err)

			for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: "given"}) {
				require.NoError(t, err)
				assert.Equal(t, "from-header", chunk.ConversationID)
			}
		})
	}
}

func TestStreamFakeConversationHeader(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.SetConversationHeader("X-Conversation-Id")
	id := mustConversation(t, c)

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}))
	require.NoError(t, err)
	assert.Equal(t, id, reply.ConversationID)
	assert.Equal(t, "You said: hi", reply.Text)
}

func TestStreamJSONEnvelope(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.SetReply(multilingual)
	srv.SetJSONStream(true)
	srv.SplitWrites(1)

	var chunks []chatbot.Chunk
	for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: mustConversation(t, c)}) {
		require.NoError(t, err)
		chunks = append(chunks, chunk)
	}
	require.Len(t, chunks, 1, "the envelope is one final chunk")
	assert.Equal(t, chatbot.Chunk{Text: multilingual, ConversationID: "conv-1", Done: true}, chunks[0])
}

func TestStreamJSONEnvelopeFailure(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(`{"success":false,"error":"Chatbot is paused"}`))
	}))
	t.Cleanup(hs.Close)
	c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL))
	require.NoError(t, err)

	reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: "c"}))
	var apiErr *chatbot.Error
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "Chatbot is paused", apiErr.Message)
	assert.Empty(t, reply.Text)
}

func TestStreamErrorStatuses(t *testing.T) {
	t.Parallel()
	for _, st := range errorStatuses {
		for _, b := range errorBodies {
			t.Run(http.StatusText(st.status)+" "+b.name, func(t *testing.T) {
				t.Parallel()
				srv, c := setup(t)
				id := mustConversation(t, c)
				srv.FailNext(1, userdesktest.Failure{Status: st.status, Body: b.body})

				var pairs int
				var last error
				for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}) {
					pairs++
					last = err
					assert.Empty(t, chunk.Text)
				}
				assert.Equal(t, 1, pairs, "the error is the only pair")
				require.ErrorIs(t, last, st.want)
				var apiErr *chatbot.Error
				require.True(t, errors.As(last, &apiErr))
				assert.Equal(t, st.status, apiErr.StatusCode)
				assert.Equal(t, b.message, apiErr.Message)
				assert.Len(t, requestsTo(srv, "/message"), 1)
			})
		}
	}
}

func TestStreamServerErrorSentOnce(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, chatbot.WithMaxRetries(3))
	id := mustConversation(t, c)
	srv.FailNext(5, userdesktest.Failure{Status: http.StatusInternalServerError})

	_, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}))
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Len(t, requestsTo(srv, "/message"), 1)
}

func TestStreamTruncated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		writeSize int
		cutAfter  int
	}{
		{name: "cut between characters", writeSize: 4, cutAfter: 12},
		{name: "cut inside a character, 1-byte writes", writeSize: 1, cutAfter: len("Café déjà vu, naïve façade — 東") + 1},
		{name: "cut after one write", writeSize: 0, cutAfter: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			id := mustConversation(t, c)
			srv.SetReply(multilingual)
			srv.SplitWrites(tt.writeSize)
			srv.CutAfter(tt.cutAfter)

			var (
				text   strings.Builder
				errs   []error
				doneOK bool
			)
			for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				require.Empty(t, errs, "no chunk after the error")
				text.WriteString(chunk.Text)
				doneOK = doneOK || chunk.Done
			}
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], io.ErrUnexpectedEOF)
			assert.False(t, doneOK, "a cut reply has no Done chunk")
			assert.Equal(t, multilingual[:tt.cutAfter], text.String(), "the text received before the cut, byte for byte")

			reply, err := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "again", ConversationID: id}))
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Equal(t, multilingual[:tt.cutAfter], reply.Text)
			assert.Equal(t, id, reply.ConversationID)
		})
	}
}

func TestStreamEarlyBreak(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.SetReply(strings.Repeat("word ", 200))
	srv.SplitWrites(5)
	srv.SetPace(20 * time.Millisecond)
	id := mustConversation(t, c)

	var got []chatbot.Chunk
	for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}) {
		require.NoError(t, err)
		got = append(got, chunk)
		break
	}
	require.Len(t, got, 1)
	assert.Equal(t, "word ", got[0].Text)
	assert.False(t, got[0].Done)
	waitDisconnect(t, srv) // breaking out closed the connection: the server stopped writing
}

func TestStreamSingleUse(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	id := mustConversation(t, c)
	chunks := c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id})
	assert.Equal(t, 1, srv.Count(), "Stream is lazy: nothing sent before the loop")

	first, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	assert.Equal(t, "You said: hi", first.Text)

	var pairs int
	for chunk, err := range chunks {
		pairs++
		assert.Equal(t, chatbot.Chunk{}, chunk)
		require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	}
	assert.Equal(t, 1, pairs)
	assert.Len(t, requestsTo(srv, "/message"), 1, "the message is never sent twice")
}

func TestStreamSingleUseWithoutConversation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	chunks := c.Stream(t.Context(), chatbot.Request{Message: "hi"})
	_, err := chatbot.Collect(chunks)
	require.NoError(t, err)
	_, err = chatbot.Collect(chunks)
	require.ErrorIs(t, err, chatbot.ErrStreamUsed)
	assert.Equal(t, 2, srv.Count(), "one conversation and one message, once")
	assert.Equal(t, 1, srv.Conversations())
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 100 * time.Millisecond
	clk := clocktest.New(time.Now())
	srv, c := setup(t, chatbot.WithStreamIdleTimeout(idle), config.WithClock(clk))
	id := mustConversation(t, c)
	srv.SetReply("Hello", ", world")
	srv.StallAfter(1)

	received := make(chan struct{})
	done := make(chan error, 1)
	var text string
	go func() {
		var last error
		for ch, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: id}) {
			if err != nil {
				last = err
				break
			}
			if text += ch.Text; text == "Hello" {
				close(received)
			}
		}
		done <- last
	}()
	<-received           // the text before the stall has arrived…
	clk.WaitFor(t, idle) // …and the idle timer runs again, the consumer done with it
	clk.Advance(idle)
	require.ErrorIs(t, <-done, chatbot.ErrIdleTimeout)
	assert.Equal(t, "Hello", text)
	waitDisconnect(t, srv)
}

func TestStreamContextCancelled(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	id := mustConversation(t, c)
	srv.SetReply("Hello", ", world")
	srv.StallAfter(1)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var text string
	var last error
	for chunk, err := range c.Stream(ctx, chatbot.Request{Message: "hi", ConversationID: id}) {
		if err != nil {
			last = err
			continue
		}
		text += chunk.Text
		if text == "Hello" {
			cancel()
		}
	}
	assert.Equal(t, "Hello", text)
	require.ErrorIs(t, last, context.Canceled)
	waitDisconnect(t, srv)
}

func TestStreamRefusesInvalidRequest(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)

	var pairs int
	for _, err := range c.Stream(t.Context(), chatbot.Request{Message: ""}) {
		pairs++
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	}
	assert.Equal(t, 1, pairs)
	assert.Equal(t, 0, srv.Count(), "no conversation is created for a refused message")
}

// FuzzStreamText writes arbitrary bytes as a raw text stream, in pieces of
// any size: the chunks must concatenate to exactly the bytes sent, and never
// split a character of valid input.
func FuzzStreamText(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		for _, size := range []uint8{0, 1, 2, 3, 7} {
			f.Add(b, size)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, size uint8) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			p := body
			for len(p) > 0 {
				n := len(p)
				if size > 0 {
					n = min(n, int(size))
				}
				_, _ = w.Write(p[:n])
				w.(http.Flusher).Flush()
				p = p[n:]
			}
		}))
		defer hs.Close()
		c, err := userdesk.NewClient("key", "bot", chatbot.WithBaseURL(hs.URL), chatbot.WithMaxRetries(0))
		require.NoError(t, err)

		var text strings.Builder
		valid := utf8.Valid(body)
		for chunk, err := range c.Stream(t.Context(), chatbot.Request{Message: "hi", ConversationID: "c"}) {
			require.NoError(t, err)
			if valid {
				assert.True(t, utf8.ValidString(chunk.Text))
			}
			text.WriteString(chunk.Text)
		}
		assert.Equal(t, string(body), text.String())
	})
}
