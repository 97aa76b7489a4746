package resilience_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

func TestFallbackPassesConformance(t *testing.T) {
	t.Parallel()
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		r := newRig(t, rigConfig{})
		return chatbottest.Target{Bot: r.fb, Server: r.ws} // new conversations go to the primary
	})
}

func TestFallbackPassesConformanceOnTheBackup(t *testing.T) {
	t.Parallel()
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		r := newRig(t, rigConfig{})
		r.throttle.Store(true) // every new conversation moves to the backup
		// The Fallback reports its primary's Info; the checks hold the
		// backup, which answers here, to the backup's Capabilities, with
		// conversation ids issued by the Fallback.
		info := chatbot.InfoOf(r.backup)
		info.Capabilities.Conversations = chatbot.ConversationServerIssued
		return chatbottest.Target{Bot: answeredBy{r.fb, info}, Server: r.st}
	})
}

// answeredBy is a Chatbot that reports info, the Info of the chatbot that
// answers its calls.
type answeredBy struct {
	chatbot.Chatbot
	info chatbot.Info
}

func (a answeredBy) Info() chatbot.Info { return a.info }

// TestFallbackKeepsConversationsWithTheirOwner starts one conversation on
// the primary and, while the primary refuses, one on the backup, and
// continues both.
func TestFallbackKeepsConversationsWithTheirOwner(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"Chat", "Stream"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigConfig{})
			ctx := t.Context()
			first, chunks, err := call(ctx, r.fb, mode, chatbot.Request{Message: "on the primary"}, 0)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(first.ConversationID, "primary:"), first.ConversationID)
			for _, c := range chunks {
				assert.Equal(t, first.ConversationID, c.ConversationID, "every chunk carries the encoded id")
			}

			r.ws.RateLimitNext(2, 2*time.Minute)
			_, _, err = call(ctx, r.fb, mode, chatbot.Request{Message: "still there?", ConversationID: first.ConversationID}, 0)
			require.ErrorIs(t, err, chatbot.ErrRateLimited, "a continued conversation gets its owner's error")
			p, b := r.counts()
			assert.Equal(t, 2, p)
			assert.Equal(t, 0, b, "a continued conversation never moves")

			second, _, err := call(ctx, r.fb, mode, chatbot.Request{Message: "on the backup", User: chatbot.User{ID: "u2"}}, 0)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(second.ConversationID, "backup:"), second.ConversationID)
			assert.Equal(t, "Answer 1 to \"on the backup\"", second.Text)

			third, _, err := call(ctx, r.fb, mode, chatbot.Request{Message: "and again", ConversationID: second.ConversationID}, 0)
			require.NoError(t, err)
			assert.Equal(t, second.ConversationID, third.ConversationID)
			assert.Equal(t, "Answer 2 to \"and again\"", third.Text, "the backup continued its own conversation")

			fourth, _, err := call(ctx, r.fb, mode, chatbot.Request{Message: "back home", ConversationID: first.ConversationID}, 0)
			require.NoError(t, err)
			assert.Equal(t, first.ConversationID, fourth.ConversationID)
			raw := strings.TrimPrefix(first.ConversationID, "primary:")
			assert.Equal(t, []string{"on the primary", "back home"}, r.ws.Messages(raw))
			p, b = r.counts()
			assert.Equal(t, 4, p)
			assert.Equal(t, 2, b)
		})
	}
}

func TestFallbackRefusesUnknownConversations(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigConfig{})
	for _, id := range []string{"cm5conv0001", "other:cm5conv0001", ":x"} {
		for _, mode := range []string{"Chat", "Stream"} {
			_, _, err := call(t.Context(), r.fb, mode, chatbot.Request{Message: "hello", ConversationID: id}, 0)
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "%s %q", mode, id)
		}
	}
	p, b := r.counts()
	assert.Equal(t, 0, p+b, "nothing is sent")
}

// TestFallbackSkipsAnOpenCircuit checks that once the primary's breaker is
// open, new conversations go to the backup without a request to the
// primary, and continued ones get the breaker's error.
func TestFallbackSkipsAnOpenCircuit(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigConfig{})
	first, err := r.fb.Chat(t.Context(), chatbot.Request{Message: "hello"})
	require.NoError(t, err)
	r.ws.FailNext(2, workspacetest.Failure{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "down"})
	for range 2 {
		_, err := r.fb.Chat(t.Context(), chatbot.Request{Message: "hello"})
		require.ErrorIs(t, err, chatbot.ErrServer, "a 500 is returned, not retried on the backup")
	}
	require.Equal(t, []string{"closed>open"}, r.Changes())

	for _, mode := range []string{"Chat", "Stream"} {
		reply, _, err := call(t.Context(), r.fb, mode, chatbot.Request{Message: "new"}, 0)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(reply.ConversationID, "backup:"))
		_, _, err = call(t.Context(), r.fb, mode, chatbot.Request{Message: "continued", ConversationID: first.ConversationID}, 0)
		require.ErrorIs(t, err, resilience.ErrCircuitOpen)
	}
	p, b := r.counts()
	assert.Equal(t, 3, p, "nothing reaches the primary while its circuit is open")
	assert.Equal(t, 2, b)
}

// TestFallbackErrorLeadsWithThePrimary has every chatbot refuse.
func TestFallbackErrorLeadsWithThePrimary(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"Chat", "Stream"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigConfig{})
			r.ws.RateLimitNext(1, 2*time.Minute)
			r.st.FailNext(1, stammertest.ServerError())
			_, _, err := call(t.Context(), r.fb, mode, chatbot.Request{Message: "hello"}, 0)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "primary: workspace: 429 RATE_LIMIT_EXCEEDED"), err.Error())
			assert.Contains(t, err.Error(), "; backup: stammer: 500")
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "workspace", apiErr.Provider, "errors.As finds the primary's error first")
			require.ErrorIs(t, err, chatbot.ErrRateLimited)
			require.ErrorIs(t, err, chatbot.ErrServer, "the backup's error is reachable")
			var fe *resilience.FallbackError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, []string{"primary", "backup"}, fe.Names)
			p, b := r.counts()
			assert.Equal(t, 1, p)
			assert.Equal(t, 1, b)
		})
	}
}

func TestNewFallbackValidates(t *testing.T) {
	t.Parallel()
	_, c := newWorkspace(t)
	tests := map[string][]resilience.Named{
		"no chatbots": nil,
		"empty name":  {{Name: "", Bot: c}},
		"colon":       {{Name: "a:b", Bot: c}},
		"duplicate":   {{Name: "a", Bot: c}, {Name: "a", Bot: c}},
		"nil bot":     {{Name: "a"}},
	}
	for name, bots := range tests {
		_, err := resilience.NewFallback(bots...)
		assert.Error(t, err, name)
	}
	f, err := resilience.NewFallback(resilience.Named{Name: "only", Bot: c})
	require.NoError(t, err)
	assert.Equal(t, chatbot.InfoOf(c), f.Info(), "Info is the primary's")
}

// TestRace200Goroutines shares one stack (a Fallback over a primary behind
// Breaker and Limit, and a backup) among 200 goroutines, each starting a
// conversation and continuing it by Stream, while the primary refuses 100
// of the new conversations with 429s. Every conversation must stay with
// the chatbot that started it, and no message may be sent twice.
func TestRace200Goroutines(t *testing.T) {
	t.Parallel()
	const n, refused = 200, 100
	r := newRig(t, rigConfig{})
	r.ws.RateLimitNext(refused, 2*time.Minute)
	var wg sync.WaitGroup
	owners := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := chatbot.Request{Message: fmt.Sprintf("m%d", i), User: chatbot.User{ID: fmt.Sprintf("u%d", i)}}
			first, err := r.fb.Chat(t.Context(), req)
			if !assert.NoError(t, err) {
				return
			}
			req.Message, req.ConversationID = "again", first.ConversationID
			second, err := chatbot.Collect(r.fb.Stream(t.Context(), req))
			if !assert.NoError(t, err) {
				return
			}
			assert.Equal(t, first.ConversationID, second.ConversationID)
			owner, raw, _ := strings.Cut(first.ConversationID, ":")
			if owner == "primary" {
				assert.Equal(t, []string{fmt.Sprintf("m%d", i), "again"}, r.ws.Messages(raw))
			} else {
				assert.Len(t, r.st.History(raw), 2)
			}
			owners <- owner
		}()
	}
	wg.Wait()
	close(owners)
	count := map[string]int{}
	for o := range owners {
		count[o]++
	}
	assert.Equal(t, map[string]int{"primary": n - refused, "backup": refused}, count)
	p, b := r.counts()
	assert.Equal(t, n+(n-refused), p, "each new conversation once, each primary conversation continued once")
	assert.Equal(t, 2*refused, b)
	assert.Empty(t, r.Changes(), "429s never open the circuit")
}

// TestFallbackIssuesConversationIds checks that a Fallback reports its
// primary's Info, but conversation ids as its own to issue: a caller-made
// id names no chatbot of the Fallback and is refused.
func TestFallbackIssuesConversationIds(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigConfig{stammerPrimary: true})
	primary := chatbot.InfoOf(r.primary)
	require.Equal(t, chatbot.ConversationCallerMade, primary.Capabilities.Conversations)
	want := primary
	want.Capabilities.Conversations = chatbot.ConversationServerIssued
	assert.Equal(t, want, chatbot.InfoOf(r.fb))

	_, err := r.fb.Chat(t.Context(), chatbot.Request{Message: "hello", ConversationID: "made-up"})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
}
