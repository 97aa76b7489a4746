package resilience_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// verdict is how the primary's breaker counted an outcome.
type verdict string

const (
	failure verdict = "failure" // counts towards opening the circuit
	success verdict = "success" // resets the count of consecutive failures
	neither verdict = "neither" // counted neither way
)

// row is one row of the decision table in the package documentation.
type row struct {
	name     string
	modes    []string                                                                // "Chat", "Stream"; default both
	cfg      rigConfig                                                               // rig settings for this row
	arrange  func(r *rig)                                                            // scripts the outcome on the primary
	ctx      func(r *rig, ctx context.Context) (context.Context, context.CancelFunc) // the call's context; default t.Context()
	message  string                                                                  // default "hello"
	breakAt  int                                                                     // Stream: break after this many chunks (0: never)
	sent     int                                                                     // requests the primary's fake receives
	fallback bool                                                                    // the backup answers
	isErr    func(t *testing.T, err error)                                           // checks the error when the backup does not answer
	verdict  verdict
}

func decisionRows() []row {
	status := func(code int, providerCode string) func(r *rig) {
		return func(r *rig) {
			r.ws.FailNext(1, workspacetest.Failure{Status: code, Code: providerCode, Message: "scripted"})
		}
	}
	is := func(target error) func(t *testing.T, err error) {
		return func(t *testing.T, err error) { t.Helper(); require.ErrorIs(t, err, target) }
	}
	hasStatus := func(code int) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			t.Helper()
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, code, apiErr.StatusCode)
		}
	}
	return []row{
		{name: "success", arrange: func(*rig) {}, sent: 1, verdict: success},
		{name: "500", arrange: status(500, "INTERNAL_ERROR"), sent: 1, isErr: hasStatus(500), verdict: failure},
		{name: "502", arrange: status(502, ""), sent: 1, isErr: hasStatus(502), verdict: failure},
		{name: "504", arrange: status(504, ""), sent: 1, isErr: hasStatus(504), verdict: failure},
		{name: "503 without Retry-After", arrange: status(503, ""), sent: 1, isErr: hasStatus(503), verdict: failure},
		{name: "503 with Retry-After", cfg: rigConfig{stammerPrimary: true},
			arrange: func(r *rig) {
				r.st.FailNext(1, stammertest.Failure{Status: 503, Body: `{"detail": "Service unavailable."}`, RetryAfter: 2 * time.Minute})
			},
			sent: 1, fallback: true, verdict: failure},
		{name: "429", arrange: func(r *rig) { r.ws.RateLimitNext(1, 2*time.Minute) }, sent: 1, fallback: true, verdict: neither},
		{name: "quota exhausted", arrange: status(402, "INSUFFICIENT_CREDITS"), sent: 1, fallback: true, verdict: neither},
		{name: "400", arrange: status(400, "REQUEST_VALIDATION_FAILED"), sent: 1, isErr: is(chatbot.ErrInvalidRequest), verdict: success},
		{name: "401", arrange: status(401, "INVALID_API_KEY"), sent: 1, isErr: is(chatbot.ErrUnauthorized), verdict: success},
		{name: "403", arrange: status(403, "CHATBOT_FETCH_FORBIDDEN"), sent: 1, isErr: is(chatbot.ErrForbidden), verdict: success},
		{name: "404", arrange: status(404, "CHATBOT_NOT_FOUND"), sent: 1, isErr: is(chatbot.ErrNotFound), verdict: success},
		{name: "2xx HTML page", arrange: status200HTML, sent: 1, isErr: hasStatus(200), verdict: failure},
		{name: "redirect not followed", arrange: func(r *rig) {
			r.ws.FailNext(1, workspacetest.Failure{Status: http.StatusFound, Body: "<html><body>Moved</body></html>"})
		}, sent: 1, isErr: hasStatus(http.StatusFound), verdict: failure},
		{name: "dial error", arrange: func(r *rig) { r.fault.Store(int32(dialRefused)) }, sent: 0, fallback: true, verdict: failure},
		{name: "DNS error", arrange: func(r *rig) { r.fault.Store(int32(dnsFailure)) }, sent: 0, fallback: true, verdict: failure},
		{name: "client-side rate limit", arrange: func(r *rig) { r.throttle.Store(true) }, sent: 0, fallback: true, verdict: neither},
		{name: "limiter failure", arrange: func(r *rig) { r.limitErr.Store(true) }, sent: 0,
			isErr: func(t *testing.T, err error) { var lerr *resilience.LimiterError; require.ErrorAs(t, err, &lerr) }, verdict: neither},
		{name: "reset after sending", arrange: func(r *rig) { r.fault.Store(int32(resetAfterSend)) }, sent: 1,
			isErr: func(t *testing.T, err error) {
				var op *net.OpError
				require.ErrorAs(t, err, &op)
				assert.Equal(t, "read", op.Op)
			}, verdict: failure},
		{name: "response header timeout", modes: []string{"Chat"}, cfg: rigConfig{headerTimeout: 3 * time.Second},
			arrange: func(r *rig) { r.ws.StallNext(1) }, sent: 1, // held before the headers
			isErr: func(t *testing.T, err error) { assert.ErrorContains(t, err, "timeout awaiting response headers") }, verdict: failure},
		{name: "idle timeout", cfg: rigConfig{idle: 500 * time.Millisecond}, // a Chat's body read as a stream's
			arrange: func(r *rig) { r.ws.StallAfter(0) }, sent: 1, isErr: is(chatbot.ErrIdleTimeout), verdict: failure}, // held after the headers
		{name: "cut before the first chunk", arrange: func(r *rig) { r.ws.CutAfter(10) }, sent: 1, isErr: is(io.ErrUnexpectedEOF), verdict: failure},
		{name: "cut mid-reply", modes: []string{"Stream"}, arrange: func(r *rig) { r.ws.SplitWrites(0); r.ws.CutAfter(150) }, sent: 1, isErr: is(io.ErrUnexpectedEOF), verdict: failure},
		{name: "error event mid-reply", modes: []string{"Stream"}, arrange: func(r *rig) { r.ws.FailStream("GENERATION_FAILED", "the model failed") }, sent: 1,
			isErr: func(t *testing.T, err error) {
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "GENERATION_FAILED", apiErr.ProviderCode)
			}, verdict: failure},
		{name: "429 event mid-reply", modes: []string{"Stream"}, arrange: func(r *rig) { r.ws.FailStream("RATE_LIMIT_EXCEEDED", "slow down") }, sent: 1,
			isErr: is(chatbot.ErrRateLimited), verdict: neither},
		{name: "invalid request refused by the SDK", arrange: func(*rig) {}, message: "  ", sent: 0, isErr: is(chatbot.ErrInvalidRequest), verdict: neither},
		{name: "caller's cancellation", arrange: func(*rig) {}, sent: 0,
			ctx: func(_ *rig, ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			}, isErr: is(context.Canceled), verdict: neither},
		// The deadline passes while the fake holds the request: before the
		// headers for Chat, after them (reading the body) for Stream.
		{name: "caller's deadline", modes: []string{"Chat"}, arrange: func(r *rig) { r.ws.StallNext(1) }, sent: 1,
			ctx: deadlineWhenHeld, isErr: is(context.DeadlineExceeded), verdict: neither},
		{name: "caller's deadline", modes: []string{"Stream"}, arrange: func(r *rig) { r.ws.StallAfter(0) }, sent: 1,
			ctx: deadlineWhenHeld, isErr: is(context.DeadlineExceeded), verdict: neither},
		{name: "consumer's break", modes: []string{"Stream"}, arrange: func(*rig) {}, breakAt: 1, sent: 1, verdict: neither},
	}
}

// status200HTML makes the primary's next request answered by a maintenance
// page with a 200.
func status200HTML(r *rig) {
	r.ws.FailNext(1, workspacetest.Failure{Status: http.StatusOK,
		Body: "<!DOCTYPE html><html><head><title>Down for maintenance</title></head><body>Back soon.</body></html>"})
}

// TestDecisionTable checks every row of the decision table through the
// public API against the provider fakes: what the breaker makes of the
// outcome, whether the Fallback moved the new conversation to the backup,
// and how many requests each fake received (a message that may have been
// processed is never sent to the backup).
//
// The breaker's verdict is read with a threshold of two: a 500, then the
// outcome; the circuit open means a failure. Otherwise another 500: the
// circuit open means the outcome counted neither way, closed a success.
func TestDecisionTable(t *testing.T) {
	t.Parallel()
	for _, tt := range decisionRows() {
		modes := tt.modes
		if modes == nil {
			modes = []string{"Chat", "Stream"}
		}
		for _, mode := range modes {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, tt.cfg)
				r.fail500()
				_, err := r.fb.Chat(t.Context(), chatbot.Request{Message: "first"})
				require.ErrorIs(t, err, chatbot.ErrServer)
				p, b := r.counts()
				require.Equal(t, 1, p)
				require.Equal(t, 0, b, "a 500 never moves to the backup")

				tt.arrange(r)
				ctx, cancel := t.Context(), context.CancelFunc(func() {})
				if tt.ctx != nil {
					ctx, cancel = tt.ctx(r, ctx)
				}
				defer cancel()
				msg := tt.message
				if msg == "" {
					msg = "hello"
				}
				reply, chunks, err := call(ctx, r.fb, mode, chatbot.Request{Message: msg}, tt.breakAt)
				r.fault.Store(int32(noFault))
				r.throttle.Store(false)
				r.limitErr.Store(false)
				r.ws.StallNext(0)
				r.ws.StallAfter(-1)
				r.ws.CutAfter(0)
				r.ws.FailStream("", "")

				p, b = r.counts()
				assert.Equal(t, 1+tt.sent, p, "requests at the primary's fake")
				switch {
				case tt.fallback:
					require.NoError(t, err)
					assert.Equal(t, 1, b, "the backup answered")
					assert.Regexp(t, `^backup:.+`, reply.ConversationID)
				case tt.isErr != nil:
					require.Error(t, err)
					tt.isErr(t, err)
					assert.Equal(t, 0, b, "the message never reaches the backup")
				default:
					require.NoError(t, err)
					assert.Equal(t, 0, b, "the message never reaches the backup")
					if tt.breakAt == 0 {
						assert.Regexp(t, `^primary:.+`, reply.ConversationID)
					}
				}
				if tt.name == "cut mid-reply" || tt.name == "error event mid-reply" || tt.name == "429 event mid-reply" {
					assert.NotEmpty(t, chunks, "the error came after the first chunk")
				}

				got := success
				if len(r.Changes()) > 0 {
					got = failure
				} else {
					r.fail500()
					_, err := r.primary.Chat(t.Context(), chatbot.Request{Message: "probe"})
					require.ErrorIs(t, err, chatbot.ErrServer)
					if len(r.Changes()) > 0 {
						got = neither
					}
				}
				assert.Equal(t, tt.verdict, got, "the breaker's verdict")
			})
		}
	}
}

// call sends req through bot by Chat, or by Stream collected (breaking
// after breakAt chunks when breakAt > 0), and returns the reply, the chunks
// streamed and the error.
func call(ctx context.Context, bot chatbot.Chatbot, mode string, req chatbot.Request, breakAt int) (*chatbot.Reply, []chatbot.Chunk, error) {
	if mode == "Chat" {
		reply, err := bot.Chat(ctx, req)
		return reply, nil, err
	}
	var chunks []chatbot.Chunk
	reply := &chatbot.Reply{}
	for c, err := range bot.Stream(ctx, req) {
		if err != nil {
			return reply, chunks, err
		}
		chunks = append(chunks, c)
		reply.Text += c.Text
		if c.ConversationID != "" {
			reply.ConversationID = c.ConversationID
		}
		if breakAt > 0 && len(chunks) == breakAt {
			break
		}
	}
	return reply, chunks, nil
}

// deadlineWhenHeld returns a context whose deadline passes as soon as the
// primary's fake holds the request (it reported Stalled), so that the
// deadline surely falls after the request was sent, however slow the
// machine: no timer decides the order.
func deadlineWhenHeld(r *rig, parent context.Context) (context.Context, context.CancelFunc) {
	ctx := &expiring{Context: context.WithoutCancel(parent), done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		select {
		case <-r.ws.Stalled():
		case <-stop:
		}
		ctx.expire()
	}()
	return ctx, sync.OnceFunc(func() { close(stop) })
}

// expiring is a context whose deadline passes when expire is called: Done
// closes and Err is context.DeadlineExceeded, as for a context.WithDeadline
// whose time came. It keeps the values of the context it was made from,
// without its cancellation (so context.Cause reports Err), and reports no
// Deadline: no layer in these calls reads it before sending (the rows' limiter
// never asks to wait).
type expiring struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func (c *expiring) expire()               { c.once.Do(func() { close(c.done) }) }
func (c *expiring) Done() <-chan struct{} { return c.done }

func (c *expiring) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
