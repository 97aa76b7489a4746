package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Backoff bounds for retries the server did not time itself.
const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 8 * time.Second
)

// attempts is the state of one call across its attempts. It travels in the
// request's context because go-retryablehttp's hooks are shared by every call
// of a Client.
type attempts struct {
	c          *Client
	method     string
	path       string
	idempotent bool
	idle       *idleTimer // nil unless streaming
	n          int        // attempts started
	start      time.Time  // when the current attempt started
}

type attemptsKey struct{}

// newRetryClient configures go-retryablehttp as shared/DEPENDENCIES.md
// prescribes: our own policy decides and waits in CheckRetry (the only hook
// that sees the context and the unread body), Backoff is then zero, the
// stock logger is off, and the ErrorHandler hands back the plain error
// instead of "giving up after N attempt(s)".
func (c *Client) newRetryClient() *retryablehttp.Client {
	rc := retryablehttp.NewClient() // a zero Client panics; override every field
	rc.HTTPClient = c.hc
	rc.Logger = nil
	rc.RetryMax = c.retries
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, _ int) {
		if st, ok := req.Context().Value(attemptsKey{}).(*attempts); ok {
			st.n++
			st.start = time.Now()
			st.idle.arm()
		}
	}
	rc.CheckRetry = checkRetry
	rc.Backoff = func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 }
	rc.ErrorHandler = func(resp *http.Response, err error, _ int) (*http.Response, error) {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return rc
}

// checkRetry decides whether to try again, and if so sleeps the wait itself.
// Returning (false, nil) hands the response back for normal decoding, which is
// also how a refused or exhausted retry reaches the caller as a typed error.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st, ok := ctx.Value(attemptsKey{}).(*attempts)
	if !ok {
		return false, nil
	}
	st.logAttempt(ctx, resp, err)
	if ctx.Err() != nil || st.n > st.c.retries {
		return false, nil
	}
	wait, retry := st.policy(resp, err)
	if !retry {
		return false, nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return false, nil // the caller would get a bare deadline error instead of the answer
	}
	if st.c.log != nil {
		st.c.log.LogAttrs(ctx, slog.LevelDebug, "chatbot: retrying",
			slog.String("provider", st.c.provider), slog.String("method", st.method),
			slog.String("path", st.path), slog.Int("attempt", st.n), slog.Duration("wait", wait))
	}
	if resp != nil {
		drain(resp.Body) // free the connection while we wait
	}
	st.idle.pause()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return true, nil
	}
}

// policy is the retry rule. A POST (every chat message) is tried again only
// when it provably never left (dial or DNS failure) or when the provider
// refused it unprocessed (429; 503 with a Retry-After). Idempotent requests
// also retry on other transport errors and on 5xx but 501.
func (st *attempts) policy(resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		if permanent(err) || (!st.idempotent && !neverSent(err)) {
			return 0, false
		}
		return backoff(st.n), true
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		ra := retryAfter(code, resp.Header, peekBody(resp))
		switch {
		case ra > st.c.maxWait:
			return 0, false // the caller gets the error with RetryAfter at once
		case ra > 0:
			return ra, true
		case code == http.StatusTooManyRequests || st.idempotent:
			return backoff(st.n), true
		}
		return 0, false
	case code >= 500 && code != http.StatusNotImplemented && st.idempotent:
		return backoff(st.n), true
	}
	return 0, false
}

// backoff is capped exponential backoff with equal jitter for attempt n ≥ 1.
func backoff(n int) time.Duration {
	d := backoffMin << min(n-1, 10)
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2+1)
}

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

// peekBody reads up to maxErrorBody bytes of resp's body and puts them back,
// so that the error decoder later sees the same bytes.
func peekBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	body.Close()
}

func (st *attempts) logAttempt(ctx context.Context, resp *http.Response, err error) {
	if st.c.log == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("provider", st.c.provider), slog.String("method", st.method), slog.String("path", st.path),
		slog.Int("attempt", st.n), slog.Duration("duration", time.Since(st.start)),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	} else {
		attrs = append(attrs, slog.String("error", st.c.Redact(errString(err))))
	}
	st.c.log.LogAttrs(ctx, slog.LevelDebug, "chatbot: http attempt", attrs...)
}

// errString returns err's text without the URL a *url.Error repeats.
func errString(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
