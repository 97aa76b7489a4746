package rest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	p := retryPolicy{maxRetries: 2, maxWait: 20 * time.Second, jitter: func(d time.Duration) time.Duration { return d }}
	dial := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	reset := &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
	tests := []struct {
		name       string
		idempotent bool
		attempt    int
		o          outcome
		retry      bool
		wait       time.Duration
	}{
		{"POST 429 with wait", false, 1, outcome{status: 429, retryAfter: time.Second}, true, time.Second},
		{"POST 429 without wait: backoff", false, 1, outcome{status: 429}, true, backoffMin},
		{"backoff doubles", false, 2, outcome{status: 429}, true, 2 * backoffMin},
		{"POST 429 over max wait", false, 1, outcome{status: 429, retryAfter: time.Minute}, false, 0},
		{"POST 429 past the deadline", false, 1, outcome{status: 429, retryAfter: 3 * time.Second, deadline: true, left: time.Second}, false, 0},
		{"POST 429 within the deadline", false, 1, outcome{status: 429, retryAfter: time.Second, deadline: true, left: 3 * time.Second}, true, time.Second},
		{"retries exhausted", false, 3, outcome{status: 429, retryAfter: time.Second}, false, 0},
		{"last retry", false, 2, outcome{status: 429, retryAfter: time.Second}, true, time.Second},
		{"POST 503 with wait", false, 1, outcome{status: 503, retryAfter: time.Second}, true, time.Second},
		{"POST 503 without wait", false, 1, outcome{status: 503}, false, 0},
		{"GET 503 without wait", true, 1, outcome{status: 503}, true, backoffMin},
		{"POST 500", false, 1, outcome{status: 500}, false, 0},
		{"GET 500", true, 1, outcome{status: 500}, true, backoffMin},
		{"GET 501", true, 1, outcome{status: 501}, false, 0},
		{"GET 404", true, 1, outcome{status: 404}, false, 0},
		{"POST dial error", false, 1, outcome{err: dial}, true, backoffMin},
		{"POST DNS error", false, 1, outcome{err: &net.DNSError{Err: "no such host"}}, true, backoffMin},
		{"POST reset after sending", false, 1, outcome{err: reset}, false, 0},
		{"GET reset", true, 1, outcome{err: reset}, true, backoffMin},
		{"GET cancelled", true, 1, outcome{err: context.Canceled}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			retry, wait := p.decide(tt.idempotent, tt.attempt, tt.o)
			assert.Equal(t, tt.retry, retry)
			assert.Equal(t, tt.wait, wait)
		})
	}
	capped := retryPolicy{maxRetries: 50, maxWait: time.Minute, jitter: p.jitter}
	_, wait := capped.decide(true, 30, outcome{status: 500})
	assert.Equal(t, backoffMax, wait)
}

func TestJitter(t *testing.T) {
	t.Parallel()
	for range 100 {
		d := jitter(time.Second)
		assert.GreaterOrEqual(t, d, 500*time.Millisecond)
		assert.LessOrEqual(t, d, time.Second)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := resolve(nil)
	assert.NoError(t, err)
	assert.Equal(t, 2, s.MaxRetries)
	assert.Equal(t, 20*time.Second, s.MaxRetryWait)
	assert.Equal(t, 2*time.Minute, s.StreamIdleTimeout)
	assert.Nil(t, s.HTTPClient, "the shared default client is chosen by New, never http.DefaultClient")
	assert.Nil(t, s.Clock)
	hc := defaultHTTPClient()
	assert.Same(t, hc, defaultHTTPClient(), "one client shared by all")
	tr := hc.Transport.(*http.Transport)
	assert.Zero(t, tr.ResponseHeaderTimeout, "the stream idle timeout alone bounds the wait for headers")
	assert.Equal(t, 1<<10, tr.WriteBufferSize, "a small write buffer per pooled connection")
	assert.Zero(t, hc.Timeout, "an overall timeout would cut long streams")
	assert.NotSame(t, http.DefaultTransport, tr)
}
