package dify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

// hang is the hang guard of waits on the fake's observations.
const hang = 30 * time.Second

// The fake's ids for the first chat turn: conversation, task, message.
const (
	fakeConv = "00000001-0000-4000-8000-000000000001"
	fakeTask = "00000002-0000-4000-8000-000000000002"
	fakeMsg  = "00000003-0000-4000-8000-000000000003"
)

// wait fails the test unless c yields within the hang guard.
func wait(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(hang):
		t.Fatalf("the server never observed %s", what)
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	srv.SetReply("Nine ", "to ", "five.")
	srv.SetPings(2)
	var chunks []chatbot.Chunk
	for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "Hours?", User: chatbot.User{ID: "u1"}}) {
		require.NoError(t, err)
		chunks = append(chunks, ch)
	}
	require.Len(t, chunks, 4)
	reply, err := chatbot.Collect(replay(chunks))
	require.NoError(t, err)
	require.Equal(t, "Nine to five.", reply.Text)
	require.Equal(t, fakeConv, reply.ConversationID)
	require.Equal(t, fakeMsg, reply.MessageID)
	require.Equal(t, &chatbot.Usage{InputTokens: 1, OutputTokens: 3, TotalTokens: 4, Price: "0.0000076", Currency: "USD"}, reply.Usage)

	body := srv.Requests()[0].JSON()
	require.Equal(t, "streaming", body["response_mode"])
	require.Equal(t, "u1", body["user"])
	require.Equal(t, "text/event-stream", srv.Requests()[0].Header.Get("Accept"))
}

// TestStreamModes streams each app mode of the fake, with several events
// per write.
func TestStreamModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []difytest.Mode{difytest.ModeChat, difytest.ModeAgent, difytest.ModeChatflow} {
		for _, batch := range []int{1, 3, 100} {
			bot, srv := setup(t)
			srv.SetMode(mode)
			srv.SetBatch(batch)
			srv.SetPings(1)
			srv.SetSources(chatbot.Source{Title: "a.md", Snippet: "A", Score: 0.5})
			reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "What is Dify?"}))
			require.NoError(t, err, "%s, %d per write", mode, batch)
			require.Equal(t, "You said: What is Dify?", reply.Text, "%s, %d per write", mode, batch)
			require.Equal(t, fakeMsg, reply.MessageID)
			require.Equal(t, chatbot.FinishComplete, reply.FinishReason)
			require.Equal(t, []chatbot.Source{{ID: "seg-1", Title: "a.md", Snippet: "A", Score: 0.5}}, withoutRaw(t, reply.Sources))
		}
	}
}

func TestStreamAgentRefusesChat(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	srv.SetMode(difytest.ModeAgent)
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	require.Equal(t, dify.CodeAppUnavailable, dify.ErrorCodeOf(err))
}

func TestStreamFake(t *testing.T) {
	t.Parallel()
	t.Run("replace", func(t *testing.T) {
		t.Parallel()
		bot, srv := setup(t)
		srv.SetReply("one ", "two ", "three")
		srv.SetReplace(2, "[removed] ")
		reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
		require.NoError(t, err)
		require.Equal(t, "[removed] three", reply.Text)
		require.Equal(t, chatbot.FinishContentFilter, reply.FinishReason)
	})
	t.Run("error event", func(t *testing.T) {
		t.Parallel()
		bot, srv := setup(t)
		srv.SetReply("one ", "two")
		srv.FailStream("provider_quota_exceeded", "Your quota for Dify Hosted Model Provider has been exhausted.")
		reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
		require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
		require.Equal(t, dify.CodeProviderQuotaExceeded, dify.ErrorCodeOf(err))
		require.Equal(t, "one two", reply.Text)
	})
	t.Run("ping only", func(t *testing.T) {
		t.Parallel()
		bot, srv := setup(t)
		srv.SetPings(3)
		srv.SetPingOnly(true)
		reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.Empty(t, reply.Text)
	})
	t.Run("cut", func(t *testing.T) {
		t.Parallel()
		bot, srv := setup(t)
		srv.SetReply("one ", "two")
		srv.CutAfter(400) // after the first event
		_, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		wait(t, srv.Stopped(), "a stop call after a cut stream")
	})
}

// TestStreamStopsOnBreak checks that breaking out of a stream stops the
// Dify run, with the same user, without waiting for the stop's answer, and
// that the stop request is given up after StopTimeout.
func TestStreamStopsOnBreak(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Unix(1733580000, 0))
	bot, srv := setup(t, config.WithClock(clock))
	srv.SetReply("First part. ", "Second part.")
	srv.StallAfter(1) // the run is still going when the caller breaks

	done := make(chan []string, 1)
	go func() {
		var texts []string
		for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "hi", User: chatbot.User{ID: "alice"}}) {
			texts = append(texts, ch.Text)
			if err == nil {
				srv.StallNext(1) // hold the stop request: the break must not wait for it
			}
			break
		}
		done <- texts
	}()
	select {
	case texts := <-done:
		require.Equal(t, []string{"First part. "}, texts)
	case <-time.After(hang):
		t.Fatal("the break waited for the stop request")
	}
	// The loop ended although the server holds the stop request: the break
	// did not wait for it. (The stream may signal a stall too, unless the
	// client went away before the server's write returned.)
	for len(srv.Requests()) < 2 {
		wait(t, srv.Stalled(), "the stop request held")
	}
	require.Equal(t, "/v1/chat-messages/"+fakeTask+"/stop", srv.Requests()[1].Path)
	require.Equal(t, map[string]any{"user": "alice"}, srv.Requests()[1].JSON())

	// The stop is given up at StopTimeout: the server sees both requests'
	// clients go away (the stream's at the break, the stop's now).
	clock.WaitFor(t, dify.StopTimeout)
	clock.Advance(dify.StopTimeout)
	wait(t, srv.Disconnects(), "a client going away")
	wait(t, srv.Disconnects(), "the stop request given up")
}

// TestStreamStopsOnCancel checks that cancelling the context midway stops
// the run, although the context the stop inherits is cancelled.
func TestStreamStopsOnCancel(t *testing.T) {
	t.Parallel()
	bot, srv := setup(t)
	srv.SetReply("First part. ", "Second part.")
	srv.StallAfter(1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var last error
	for _, err := range bot.Stream(ctx, chatbot.Request{Message: "hi"}) {
		cancel()
		last = err
	}
	require.ErrorIs(t, last, context.Canceled)
	wait(t, srv.Stopped(), "the stop call")
	require.Equal(t, []difytest.Stop{{TaskID: fakeTask, User: dify.DefaultUser}}, srv.Stops())
}

// pingServer answers a chat request with the headers of a stream, then
// writes each string it receives on the returned channel, until the client
// goes away.
func pingServer(t *testing.T) (*httptest.Server, chan<- string) {
	t.Helper()
	script := make(chan string)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat-messages" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"result": "success"}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case s := <-script:
				_, _ = io.WriteString(w, s)
				w.(http.Flusher).Flush()
				if s == endEvent {
					return // Dify ends the body after message_end
				}
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, script
}

const (
	pingEvent    = "event: ping\n\n"
	messageEvent = `data: {"event": "message", "task_id": "t1", "conversation_id": "` + fakeConv + `", "message_id": "` + fakeMsg + `", "answer": "Hi"}` + "\n\n"
	endEvent     = `data: {"event": "message_end", "task_id": "t1", "conversation_id": "` + fakeConv + `", "message_id": "` + fakeMsg + `", "metadata": {}}` + "\n\n"
)

// idleTimeout is the stream idle timeout of the tests of keep-alives.
const idleTimeout = time.Minute

// streamScripted starts a stream against a pingServer, with idleTimeout on
// a fake clock, once the client waits in its first read of the body. It
// returns the clock, the server's script and the stream's end.
func streamScripted(t *testing.T) (*clocktest.Clock, chan<- string, <-chan error) {
	t.Helper()
	clock := clocktest.New(time.Unix(1733580000, 0))
	srv, script := pingServer(t)
	bot, err := dify.NewClient("app-key", chatbot.WithBaseURL(srv.URL+"/v1/"), chatbot.WithStreamIdleTimeout(idleTimeout), config.WithClock(clock))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "hi"}))
		done <- err
	}()
	clock.WaitArmed(t, 2) // the wait for the headers, then the first read of the body
	return clock, script, done
}

// ended returns the stream's error, failing the test if it does not end.
func ended(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(hang):
		t.Fatal("the stream did not end")
		return nil
	}
}

// TestStreamPingsDoNotKeepAlive checks that the idle timeout counts from
// the last event other than a ping: pings arriving within the timeout do
// not keep a stalled run open.
func TestStreamPingsDoNotKeepAlive(t *testing.T) {
	t.Parallel()
	clock, script, done := streamScripted(t)
	clock.Advance(idleTimeout / 2)
	script <- pingEvent
	// The ping did not restart the countdown: the next read waits for what
	// is left of it.
	clock.WaitFor(t, idleTimeout/2)
	clock.Advance(idleTimeout / 2)
	err := ended(t, done)
	require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
	require.ErrorContains(t, err, "dify: stream: chatbot: stream idle timeout: no content for 1m0s (keep-alives do not count)")
}

// TestStreamContentRestartsIdle checks that an event with content restarts
// the idle countdown.
func TestStreamContentRestartsIdle(t *testing.T) {
	t.Parallel()
	clock, script, done := streamScripted(t)
	clock.Advance(idleTimeout / 2)
	script <- messageEvent
	clock.WaitArmed(t, 3)              // the next read, with the countdown restarted
	clock.Advance(3 * idleTimeout / 4) // past the first deadline, within the new one
	script <- pingEvent
	script <- endEvent
	require.NoError(t, ended(t, done))
}

// TestStreamJSONAnswer checks that a blocking answer to a stream request (a
// proxy that buffered the stream into one body) is one final chunk.
func TestStreamJSONAnswer(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"event": "message", "task_id": "t", "id": "` + fakeMsg + `", "conversation_id": "` + fakeConv + `", "answer": "Whole.",` +
			` "metadata": {"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "total_price": 0.5, "currency": "USD"}}}`: "",
		`{"event": "message", "conversation_id": "` + fakeConv + `", "answer": ""}`: "dify: stream: the response carried no reply: unexpected EOF",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		bot, err := dify.NewClient("app-key", chatbot.WithBaseURL(srv.URL+"/v1/"))
		require.NoError(t, err)
		var chunks []chatbot.Chunk
		var last error
		for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
			if err != nil {
				last = err
				break
			}
			chunks = append(chunks, ch)
		}
		if want != "" {
			require.EqualError(t, last, want)
			require.Empty(t, chunks)
			continue
		}
		require.NoError(t, last)
		require.Equal(t, []chatbot.Chunk{{
			Text: "Whole.", ConversationID: fakeConv, MessageID: fakeMsg, Done: true, FinishReason: chatbot.FinishComplete,
			Usage: &chatbot.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 3, Price: "0.5", Currency: "USD"},
		}}, chunks)
	}
}
