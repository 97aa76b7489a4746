package resilience

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/chatbot-go/chatbot"
)

// CodeClientRateLimited is the [chatbot.Error.ProviderCode] of the error
// [Limit] returns when the client's own limiter refused a call, so that a
// caller can tell its own limit from the provider's 429 (whose ProviderCode
// is the provider's). Both match [chatbot.ErrRateLimited].
const CodeClientRateLimited = "CLIENT_RATE_LIMITED"

// LimiterError is returned by the chatbots [Limit] wraps when the [Limiter]
// itself failed (its store was unreachable, say). The message was not sent.
// Err is the limiter's error; errors.Is and errors.As see through it.
type LimiterError struct {
	Key string // the key the call was counted under
	Err error  // the limiter's error
}

// Error returns "resilience: limiter: " followed by the limiter's error. It
// does not print the key, which may name a tenant.
func (e *LimiterError) Error() string { return "resilience: limiter: " + e.Err.Error() }

// Unwrap returns the limiter's error.
func (e *LimiterError) Unwrap() error { return e.Err }

// LimitOption configures [Limit].
type LimitOption func(*limitConfig)

type limitConfig struct {
	key     func(ctx context.Context, req chatbot.Request) string
	maxWait time.Duration
	clock   clock
}

// WithKeyFunc makes [Limit] count each call under key(ctx, req) instead of
// the wrapped chatbot's provider and chatbot id, for example to give each
// tenant its own budget. key must be safe for concurrent use. A nil key
// restores the default.
func WithKeyFunc(key func(ctx context.Context, req chatbot.Request) string) LimitOption {
	return func(c *limitConfig) { c.key = key }
}

// WithMaxWait sets the longest a call waits, in total, for the limiter before
// it is refused with [chatbot.ErrRateLimited] instead. The default is
// [chatbot.DefaultMaxRetryWait], the same bound as a server-requested wait; 0
// or less refuses at once instead of waiting.
func WithMaxWait(d time.Duration) LimitOption {
	return func(c *limitConfig) { c.maxWait = max(d, 0) }
}

// Limit returns a [chatbot.Middleware] that asks l before every call whether
// it may be sent. The key is "<provider>/<chatbot id>" of the wrapped
// chatbot's [chatbot.InfoOf] unless [WithKeyFunc] says otherwise.
//
// A throttled call follows the SDK's one waiting rule: when the limiter's
// wait is at most the max wait ([WithMaxWait]; what was already waited counts)
// and ends before ctx's deadline, the call waits and asks again; otherwise it
// returns at once, without touching the provider, a *[chatbot.Error] with
// [chatbot.CodeRateLimitExceeded], ProviderCode [CodeClientRateLimited],
// RetryAfter set to the limiter's wait and Provider set to the wrapped
// chatbot's provider, so errors.Is(err, chatbot.ErrRateLimited) holds. A
// cancelled wait returns ctx's error. When the limiter fails, the call
// returns a *[LimiterError] and the message is not sent; when the limiter
// returns early because ctx ended (or its deadline passed), the call returns
// ctx's error instead: the caller's cancellation is not a limiter failure.
//
// When l is also a [Throttler] and the provider refuses a call with a
// rate-limit error that gives a RetryAfter, Limit passes it on with
// Throttle, so that l holds every call under the key (in every process that
// shares l's store) until then. It sees the error the wrapped chatbot
// returns: with the client's own retries on, that is after them.
//
// Chat and Stream are limited alike. A stream asks the limiter on its first
// iteration, not when Stream is called, so it stays lazy; ranging over it a
// second time yields only an error wrapping [chatbot.ErrStreamUsed] and
// spends nothing. The returned chatbot forwards Info and is safe for
// concurrent use if l is.
//
// Limit panics if l is nil. Without [WithKeyFunc], the middleware panics
// when it wraps a chatbot whose [chatbot.Info] is empty (neither provider
// nor chatbot id: a custom chatbot without an Info method, or a middleware
// below Limit that does not forward it): every such chatbot would share the
// one key "/", and so one budget, silently. Wrap such a chatbot with a key
// function, or put Limit below the middleware that hides the Info.
func Limit(l Limiter, opts ...LimitOption) chatbot.Middleware {
	if l == nil {
		panic("resilience: Limit with a nil Limiter")
	}
	cfg := limitConfig{maxWait: chatbot.DefaultMaxRetryWait, clock: realClock{}}
	for _, o := range opts {
		o(&cfg)
	}
	return func(next chatbot.Chatbot) chatbot.Chatbot {
		info := chatbot.InfoOf(next)
		if cfg.key == nil && info.Provider == "" && info.ChatbotID == "" {
			panic(fmt.Sprintf("resilience: Limit over a chatbot with an empty chatbot.Info (a %T): its budget would be shared with every other such chatbot; use WithKeyFunc, or forward Info", next))
		}
		return &limited{next: next, l: l, cfg: cfg, info: info, key: info.Provider + "/" + info.ChatbotID}
	}
}

// limited is the Chatbot [Limit] returns.
type limited struct {
	next chatbot.Chatbot
	l    Limiter
	cfg  limitConfig
	info chatbot.Info
	key  string
}

func (b *limited) Info() chatbot.Info { return b.info }

func (b *limited) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	key, err := b.admit(ctx, req)
	if err != nil {
		return nil, err
	}
	reply, err := b.next.Chat(ctx, req)
	if err != nil {
		b.throttle(ctx, key, err)
	}
	return reply, err
}

func (b *limited) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("resilience: %w", chatbot.ErrStreamUsed))
			return
		}
		key, err := b.admit(ctx, req)
		if err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		if _, ok := b.l.(Throttler); !ok {
			b.next.Stream(ctx, req)(yield) // the consumer's loop body, unwrapped: nothing is added per chunk
			return
		}
		b.next.Stream(ctx, req)(func(c chatbot.Chunk, err error) bool {
			if err != nil {
				b.throttle(ctx, key, err)
			}
			return yield(c, err)
		})
	}
}

// throttle tells a [Throttler] limiter about the provider's refusal of a
// call under key: a rate-limit error from the provider (not the client's own
// refusal) that says how long to wait.
func (b *limited) throttle(ctx context.Context, key string, err error) {
	t, ok := b.l.(Throttler)
	if !ok {
		return
	}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) && apiErr.Code == chatbot.CodeRateLimitExceeded &&
		apiErr.ProviderCode != CodeClientRateLimited && apiErr.RetryAfter > 0 {
		t.Throttle(ctx, key, apiErr.RetryAfter)
	}
}

// admit asks the limiter until it allows the call, waiting between asks
// while the waiting rule allows, and returns the call's key, or the error to
// return.
func (b *limited) admit(ctx context.Context, req chatbot.Request) (string, error) {
	key := b.key
	if b.cfg.key != nil {
		key = b.cfg.key(ctx, req)
	}
	budget := b.cfg.maxWait
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		wait, err := b.l.Allow(ctx, key)
		if err != nil {
			if cerr := callerErr(ctx, err, b.cfg.clock.Now()); cerr != nil {
				return "", cerr
			}
			return "", &LimiterError{Key: key, Err: err}
		}
		if wait <= 0 {
			return key, nil
		}
		deadline, hasDeadline := ctx.Deadline()
		if wait > budget || (hasDeadline && b.cfg.clock.Now().Add(wait).After(deadline)) {
			return "", &chatbot.Error{
				Provider:     b.info.Provider,
				Code:         chatbot.CodeRateLimitExceeded,
				ProviderCode: CodeClientRateLimited,
				Message:      "client-side rate limit reached",
				RetryAfter:   wait,
			}
		}
		if err := b.cfg.clock.Sleep(ctx, wait); err != nil {
			return "", err
		}
		budget -= wait
	}
}

// callerErr returns the caller's own context error when the limiter's error
// is one (ctx was cancelled, or its deadline passed at now, while the limiter
// asked its store), and nil when the limiter itself failed.
func callerErr(ctx context.Context, err error, now time.Time) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if deadline, ok := ctx.Deadline(); ok && !now.Before(deadline) && errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return nil
}

// clock is the time seam of this package: tests replace it with a fake that
// never sleeps.
type clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
