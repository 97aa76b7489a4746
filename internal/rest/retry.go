package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/chatbot-go/chatbot"
)

// Backoff bounds for retries the server did not time itself.
const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 8 * time.Second
)

// retryPolicy is a Client's retry rule; see [retryPolicy.decide].
type retryPolicy struct {
	maxRetries int
	maxWait    time.Duration                     // longest server-requested wait slept
	jitter     func(time.Duration) time.Duration // a wait in [d/2, d]
}

// outcome is what one attempt produced, as the policy sees it.
type outcome struct {
	status     int           // the response's status; 0 when err is set
	retryAfter time.Duration // the wait the provider asked for; 0 if none
	err        error         // the transport error, when there is no response
	deadline   bool          // the caller's context has a deadline…
	left       time.Duration // …this far away
}

// decide says whether attempt (1 for the first) is tried again, and after
// which wait. A POST (every chat message) is tried again only when it
// provably never left (dial or DNS failure) or when the provider refused it
// unprocessed (429; 503 with a Retry-After). Idempotent requests also retry
// on other transport errors and on 5xx but 501. A requested wait over
// maxWait, or one that would outlast the caller's deadline, is not slept: the
// caller gets the provider's answer at once.
func (p retryPolicy) decide(idempotent bool, attempt int, o outcome) (bool, time.Duration) {
	if attempt > p.maxRetries {
		return false, 0
	}
	wait, retry := p.wait(idempotent, attempt, o)
	if !retry || (o.deadline && wait > o.left) {
		return false, 0
	}
	return true, wait
}

func (p retryPolicy) wait(idempotent bool, attempt int, o outcome) (time.Duration, bool) {
	backoff := p.jitter(min(backoffMin<<min(attempt-1, 10), backoffMax))
	if o.err != nil {
		if permanent(o.err) || (!idempotent && !neverSent(o.err)) {
			return 0, false
		}
		return backoff, true
	}
	switch code := o.status; {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		switch {
		case o.retryAfter > p.maxWait:
			return 0, false
		case o.retryAfter > 0:
			return o.retryAfter, true
		case code == http.StatusTooManyRequests || idempotent:
			return backoff, true
		}
	case code >= 500 && code != http.StatusNotImplemented && idempotent:
		return backoff, true
	}
	return 0, false
}

// jitter is equal jitter: a random wait in [d/2, d].
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// neverSent reports whether err proves the request never reached the server.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// permanent reports transport errors that no retry can cure.
func permanent(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		hnerr x509.HostnameError
		cierr x509.CertificateInvalidError
		rrerr *redirectRefused
	)
	return errors.As(err, &rrerr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &hnerr) || errors.As(err, &cierr)
}

// attempts is one call on its way through go-retryablehttp, whose hooks are
// its methods: started runs before each attempt, check decides after it (the
// only hook that sees the unread body), and sleep waits before the next one.
type attempts struct {
	c          *Client
	method     string
	path       string
	idempotent bool
	idle       *idleTimer     // armed while an attempt waits for its answer
	n          int            // attempts started
	start      time.Time      // when the current attempt started
	wait       time.Duration  // the wait check decided on
	failure    *chatbot.Error // the last response's error, when it was not 2xx
	rc         retryablehttp.Client
}

// run sends req until the policy stops. The retry limit is the policy's, so
// that an exhausted call leaves through check like any answer and
// go-retryablehttp's error path, which closes every idle connection of the
// transport, stays for transport errors and cancelled waits.
func (a *attempts) run(req *retryablehttp.Request) (*http.Response, error) {
	a.rc = retryablehttp.Client{
		HTTPClient:     a.c.hc,
		RetryMax:       math.MaxInt32,
		RequestLogHook: a.started,
		CheckRetry:     a.check,
		Backoff:        func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry:   a.sleep,
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, err
		},
	}
	return a.rc.Do(req)
}

func (a *attempts) started(retryablehttp.Logger, *http.Request, int) {
	a.n++
	a.start = a.c.clock.Now()
	a.failure = nil
	a.idle.arm()
}

// check reads a failed response's body once into the error the caller will
// get, and asks the policy whether to try again.
func (a *attempts) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	o := outcome{err: err}
	if resp != nil {
		a.c.observe(resp.Header)
		o.status = resp.StatusCode
		if o.status < 200 || o.status > 299 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if isRedirect(o.status) {
				a.failure = a.c.redirectError(resp, body)
			} else {
				a.failure = a.c.errorFrom(resp.StatusCode, resp.Header, body)
			}
			o.retryAfter = a.failure.RetryAfter
		}
	}
	a.logAttempt(ctx, o)
	if ctx.Err() != nil {
		return false, nil
	}
	if a.failure != nil && a.failure.Code == chatbot.CodeQuotaExceeded {
		// Used-up credits or a plan limit, whatever the status (a provider
		// may send them with a 429 or a 503): no wait cures them.
		return false, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		o.deadline, o.left = true, dl.Sub(a.c.clock.Now())
	}
	retry, wait := a.c.policy.decide(a.idempotent, a.n, o)
	switch {
	case retry:
		a.wait = wait
		a.logf(ctx, slog.LevelInfo, "chatbot: retrying", slog.Int("attempt", a.n), slog.Int("status", o.status), slog.Duration("wait", wait))
	case a.failure != nil && (o.status == http.StatusTooManyRequests || o.status == http.StatusServiceUnavailable):
		a.logf(ctx, slog.LevelWarn, "chatbot: refused by the provider", slog.Int("attempt", a.n), slog.Int("status", o.status),
			slog.Duration("retry_after", o.retryAfter))
	}
	return retry, nil
}

// sleep waits, on the client's clock, the wait check decided on. The idle
// timer does not run meanwhile.
func (a *attempts) sleep(req *http.Request) error {
	a.idle.pause()
	return a.c.sleep(req.Context(), a.wait)
}

// sleep waits for d or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	done := make(chan struct{})
	t := c.clock.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return nil
	}
}

// logAttempt writes the Debug line of one attempt.
func (a *attempts) logAttempt(ctx context.Context, o outcome) {
	if a.c.log == nil || !a.c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.Int("attempt", a.n), slog.Duration("duration", a.c.clock.Now().Sub(a.start))}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", a.c.Redact(withoutURL(o.err).Error())))
	} else {
		attrs = append(attrs, slog.Int("status", o.status))
	}
	a.logf(ctx, slog.LevelDebug, "chatbot: http attempt", attrs...)
}

// logf writes one line naming the provider and the call, then attrs.
func (a *attempts) logf(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	a.c.logCall(ctx, level, msg, Call{Method: a.method, Path: a.path}, attrs...)
}
