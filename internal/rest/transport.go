package rest

import (
	"net/http"
	"sync"
)

// defaultHTTPClient is the one client shared by every Client made without
// WithHTTPClient, so that they share one connection pool: a program that
// holds a client per tenant opens connections per host, not per client. Its
// transport is a clone of http.DefaultTransport that keeps as many idle
// connections per host as in all (the default of 2 per host would make
// concurrent chats dial anew). It sets no Client.Timeout, which would also
// cut long streams, and no ResponseHeaderTimeout: the wait for headers is
// bounded by the stream idle timeout, which ends it with ErrIdleTimeout.
//
// Its RoundTripper hides the transport's CloseIdleConnections, which
// go-retryablehttp calls when a retry wait is cancelled or retries run out:
// one client's cancelled call must not drop the pooled connections of all
// the others.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	return &http.Client{Transport: pooled{t}}
})

// pooled is a RoundTripper without CloseIdleConnections.
type pooled struct{ rt http.RoundTripper }

func (p pooled) RoundTrip(r *http.Request) (*http.Response, error) { return p.rt.RoundTrip(r) }
