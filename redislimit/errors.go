package redislimit

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable matches (with errors.Is) the error [Limiter.Allow] returns
// under [FailClosed] when Redis did not answer in time or failed.
var ErrUnavailable = errors.New("redislimit: redis unavailable")

// UnavailableError is the error [Limiter.Allow] returns under [FailClosed]
// when Redis could not decide. It matches [ErrUnavailable] with errors.Is and
// unwraps to the cause (a network error, a Redis error, or a timeout error
// that does not match context.DeadlineExceeded: only the caller's own context
// ending does). Its message gives the cause (which may name the Redis
// address), never a Redis user name or password, and not the key, which may
// name a tenant.
type UnavailableError struct {
	Key string // the rate-limit key, without the prefix
	Err error  // the cause
}

// Error returns "redislimit: redis unavailable: " followed by the cause.
func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return ErrUnavailable.Error()
	}
	return ErrUnavailable.Error() + ": " + e.Err.Error()
}

// Is reports whether target is [ErrUnavailable].
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// timeoutError is the cause of an [UnavailableError] when Redis did not
// answer within the limiter's timeout. It is a net.Error-like timeout but
// deliberately not context.DeadlineExceeded, which belongs to the caller.
type timeoutError struct {
	d   time.Duration
	err error // what go-redis reported
}

func (e timeoutError) Error() string { return "no answer within " + e.d.String() }
func (e timeoutError) Timeout() bool { return true }

// cooldownError is the cause of an [UnavailableError] when Redis was not
// asked because it failed within the cooldown (see [WithCooldown]).
type cooldownError struct{ last error }

func (e cooldownError) Error() string {
	return "not asked: it failed within the cooldown (" + e.last.Error() + ")"
}

func (e cooldownError) Unwrap() error { return e.last }

// timeoutError's Unwrap keeps the network error behind a timeout (a
// *net.OpError, say) reachable with errors.As, but never a context error.
func (e timeoutError) Unwrap() error {
	if e.err == nil || errors.Is(e.err, context.DeadlineExceeded) || errors.Is(e.err, context.Canceled) {
		return nil
	}
	return e.err
}
