package resilience

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/chatbot-go/chatbot"
)

// Defaults of [Breaker].
const (
	DefaultBreakerFailures = 5                // consecutive failures that open the circuit
	DefaultBreakerTimeout  = 30 * time.Second // how long the circuit stays open before a probe
)

// ErrCircuitOpen is matched by errors.Is for every *[CircuitOpenError]: the
// call was refused at once, without touching the provider, because the
// circuit breaker in front of it is open.
var ErrCircuitOpen = errors.New("resilience: circuit open")

// CircuitOpenError is returned by a chatbot wrapped by [Breaker] while its
// circuit is open, or half-open with its one probe under way. Nothing was
// sent. It matches [ErrCircuitOpen].
type CircuitOpenError struct {
	Info chatbot.Info // the chatbot behind the breaker

	// RetryAfter is how long until the breaker lets the next probe through;
	// 0 when a probe is under way (half-open) and its outcome decides.
	RetryAfter time.Duration
}

// Error returns a line such as
// "resilience: circuit open for workspace/bot (next probe in 12s)".
func (e *CircuitOpenError) Error() string {
	s := "resilience: circuit open for " + e.Info.Provider + "/" + e.Info.ChatbotID
	if e.RetryAfter > 0 {
		return s + " (next probe in " + e.RetryAfter.String() + ")"
	}
	return s + " (probe under way)"
}

// Is reports whether target is [ErrCircuitOpen].
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// HTTPStatus returns 503 Service Unavailable and RetryAfter, so that
// package relay (its StatusError) answers an open circuit with a 503 and a
// Retry-After of the time until the next probe.
func (e *CircuitOpenError) HTTPStatus() (int, time.Duration) {
	return http.StatusServiceUnavailable, e.RetryAfter
}

// BreakerState is the state of a circuit breaker.
type BreakerState int

// The states of a circuit breaker.
const (
	StateClosed   BreakerState = iota // calls go through; failures are counted
	StateHalfOpen                     // one probe goes through; its outcome closes or reopens the circuit
	StateOpen                         // calls fail at once with a *CircuitOpenError
)

// String returns "closed", "half-open" or "open".
func (s BreakerState) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateHalfOpen:
		return "half-open"
	case StateOpen:
		return "open"
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// BreakerOption configures [Breaker].
type BreakerOption func(*breakerConfig)

type breakerConfig struct {
	failures uint32
	timeout  time.Duration
	onChange func(info chatbot.Info, from, to BreakerState)
	logger   *slog.Logger
}

// WithFailures sets how many consecutive failures open the circuit. The
// default is [DefaultBreakerFailures]; n below 1 means 1.
func WithFailures(n int) BreakerOption {
	return func(c *breakerConfig) { c.failures = uint32(max(n, 1)) }
}

// WithOpenTimeout sets how long the circuit stays open before it lets one
// probe through. The default is [DefaultBreakerTimeout]; 0 or less restores
// it.
func WithOpenTimeout(d time.Duration) BreakerOption {
	return func(c *breakerConfig) {
		if d <= 0 {
			d = DefaultBreakerTimeout
		}
		c.timeout = d
	}
}

// WithStateChange makes the breaker call fn on every change of state, with
// the wrapped chatbot's [chatbot.Info]. fn runs synchronously in the
// goroutine of the call whose arrival or outcome changed the state, after
// the change and outside the breaker's lock, one change at a time and in
// order; it should be quick, since that call waits for it.
func WithStateChange(fn func(info chatbot.Info, from, to BreakerState)) BreakerOption {
	return func(c *breakerConfig) { c.onChange = fn }
}

// WithBreakerLogger makes the breaker log every change of state on l: a
// warning when the circuit opens, an info line otherwise, with the
// provider, chatbot id and both states. The default is not to log.
func WithBreakerLogger(l *slog.Logger) BreakerOption {
	return func(c *breakerConfig) { c.logger = l }
}

// Breaker returns a [chatbot.Middleware] that puts a circuit breaker (from
// github.com/sony/gobreaker/v2) in front of the chatbot it wraps. Each
// chatbot wrapped gets a breaker of its own.
//
// Closed, every call goes through. [WithFailures] consecutive outcomes that
// say the provider is failing (default [DefaultBreakerFailures]: a 5xx or a
// server error event, a transport error, [chatbot.ErrIdleTimeout], a stream
// cut mid-reply) open the circuit. Open, every call fails at once with a
// *[CircuitOpenError] matching [ErrCircuitOpen], without touching the
// provider. After [WithOpenTimeout] (default [DefaultBreakerTimeout]) the
// circuit is half-open: one call goes through as a probe while the others
// fail at once; the probe's success closes the circuit, its failure opens it
// again.
//
// The caller's own mistakes (4xx) count as successes; the caller's
// cancellation or deadline, a consumer's break out of a stream, 429 and
// quota refusals (the provider is up and refusing; the limiter and
// [Fallback] deal with them) and errors from before sending count neither
// way. The package documentation has the whole table.
//
// A panic in the wrapped chatbot (in Chat, or in its stream outside the
// consumer's loop body) counts as a failure, and goes on unwinding to the
// caller untouched; a panic in the consumer's loop body counts neither way,
// like a break. Either way the breaker never waits for an outcome that will
// not come: a panicking probe of a half-open circuit reopens it (or leaves
// it half-open for the next probe), it does not hold it half-open for good.
//
// A stream's outcome is reported to the breaker when the consumer's loop
// ends. The returned chatbot forwards Info and is safe for concurrent use.
func Breaker(opts ...BreakerOption) chatbot.Middleware {
	cfg := breakerConfig{failures: DefaultBreakerFailures, timeout: DefaultBreakerTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	return func(next chatbot.Chatbot) chatbot.Chatbot {
		b := &breaker{next: next, info: chatbot.InfoOf(next), timeout: cfg.timeout, onChange: cfg.onChange, logger: cfg.logger}
		failures := cfg.failures
		b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        b.info.Provider + "/" + b.info.ChatbotID,
			MaxRequests: 1,
			Timeout:     cfg.timeout,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
			OnStateChange: func(_ string, from, to gobreaker.State) {
				// Called under gobreaker's lock: note the change, and let the
				// goroutine whose call caused it report it (see flush).
				if to == gobreaker.StateOpen {
					b.openedAt.Store(time.Now().UnixNano())
				}
				b.mu.Lock()
				b.pending = append(b.pending, [2]BreakerState{state(from), state(to)})
				b.npending.Add(1)
				b.mu.Unlock()
			},
		})
		return b
	}
}

func state(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return StateOpen
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	}
	return StateClosed
}

// errExcluded is reported to gobreaker for outcomes that count neither way;
// errAbandoned marks a stream whose consumer stopped before its end (a
// break, or a panic in the loop body); errPanicked marks a call during which
// the wrapped chatbot panicked.
var (
	errExcluded  = errors.New("resilience: outcome excluded")
	errAbandoned = errors.New("resilience: stream abandoned")
	errPanicked  = errors.New("resilience: the chatbot panicked")
)

// breaker is the Chatbot [Breaker] returns.
type breaker struct {
	next     chatbot.Chatbot
	info     chatbot.Info
	timeout  time.Duration
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openedAt atomic.Int64 // unix nanoseconds of the last opening
	onChange func(info chatbot.Info, from, to BreakerState)
	logger   *slog.Logger

	flushMu  sync.Mutex // held while reporting, so changes are reported in order
	mu       sync.Mutex
	pending  [][2]BreakerState // changes not yet reported
	npending atomic.Int32
}

// flush reports the state changes noted since the last flush, in order, to
// the callback and the logger, in the goroutine of a call and with its ctx.
func (b *breaker) flush(ctx context.Context) {
	if b.npending.Load() == 0 {
		return
	}
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	changes := b.pending
	b.pending = nil
	b.npending.Store(0)
	b.mu.Unlock()
	for _, c := range changes {
		from, to := c[0], c[1]
		if b.logger != nil {
			level := slog.LevelInfo
			if to == StateOpen {
				level = slog.LevelWarn
			}
			b.logger.LogAttrs(ctx, level, "chatbot circuit breaker "+to.String(),
				slog.String("provider", b.info.Provider), slog.String("chatbot_id", b.info.ChatbotID),
				slog.String("from", from.String()), slog.String("to", to.String()))
		}
		if b.onChange != nil {
			b.onChange(b.info, from, to)
		}
	}
}

func (b *breaker) Info() chatbot.Info { return b.info }

// allow asks the breaker for a call and returns the function that reports
// its outcome, or the *CircuitOpenError to return.
func (b *breaker) allow(ctx context.Context) (func(err error), error) {
	done, err := b.cb.Allow()
	b.flush(ctx)
	if err != nil {
		e := &CircuitOpenError{Info: b.info}
		if errors.Is(err, gobreaker.ErrOpenState) {
			e.RetryAfter = max(b.timeout-time.Since(time.Unix(0, b.openedAt.Load())), time.Nanosecond)
		}
		return nil, e
	}
	return func(err error) {
		switch judge(ctx, err) {
		case healthy:
			done(nil)
		case excluded:
			done(errExcluded)
		default:
			done(err)
		}
		b.flush(ctx)
	}, nil
}

func (b *breaker) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	report, err := b.allow(ctx)
	if err != nil {
		return nil, err
	}
	outcome := errPanicked // until the wrapped Chat returns
	defer func() { report(outcome) }()
	reply, err := b.next.Chat(ctx, req)
	outcome = err
	return reply, err
}

// Where a breaker's stream is, for the report of its outcome.
const (
	inWrapped  = iota // in the wrapped chatbot's stream
	inLoopBody        // in the consumer's loop body
	ended             // the wrapped stream returned
)

func (b *breaker) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	var used atomic.Bool
	return func(yield func(chatbot.Chunk, error) bool) {
		if used.Swap(true) {
			yield(chatbot.Chunk{}, fmt.Errorf("resilience: %w", chatbot.ErrStreamUsed))
			return
		}
		report, err := b.allow(ctx)
		if err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		// phase says where the call is, so that the deferred report
		// counts a panic by where it struck, without stopping it.
		var failure error
		phase := inWrapped
		defer func() {
			switch phase {
			case inWrapped:
				report(errPanicked)
			case inLoopBody: // the consumer's panic: like a break
				report(cmp.Or(failure, errAbandoned))
			default:
				report(failure)
			}
		}()
		b.next.Stream(ctx, req)(func(c chatbot.Chunk, err error) bool {
			if err != nil {
				failure = err
			}
			phase = inLoopBody
			more := yield(c, err)
			phase = inWrapped
			if !more && err == nil {
				failure = errAbandoned
			}
			return more
		})
		phase = ended
	}
}
