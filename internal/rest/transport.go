package rest

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
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
// Each Client sends through [Client.guard]'s wrapper of it, which hides the
// transport's CloseIdleConnections: one client's cancelled call must not drop
// the pooled connections of all the others.
//
// Each connection keeps a 1 KiB write buffer instead of net/http's 4 KiB: the
// SDK's requests are a few hundred bytes of JSON (a larger body is written
// through, unbuffered), and a service relaying thousands of mostly idle
// streams holds one buffer per open connection for its whole life.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = t.MaxIdleConns
	t.WriteBufferSize = defaultWriteBuffer
	return &http.Client{Transport: t}
})

// defaultWriteBuffer is the write buffer of each connection of the default
// transport.
const defaultWriteBuffer = 1 << 10

// guardedTransport wraps the transport of the *http.Client the SDK sends
// with (the caller's own, with [chatbot.WithHTTPClient]). It does three
// things and nothing else:
//
//   - It has no CloseIdleConnections method, so go-retryablehttp's call to
//     http.Client.CloseIdleConnections after a failed or cancelled call does
//     not empty the caller's pool, connections to unrelated hosts included.
//     A failed call still closes its own connection: net/http closes a
//     connection whose request failed or was cancelled, and the SDK closes
//     every response body it does not hand back.
//   - It decodes a gzip-encoded body the transport left encoded (a transport
//     with DisableCompression, or a server that compresses unasked, which RFC
//     9110 §12.5.3 allows when the request names no Accept-Encoding), so a
//     reply is never a JSON error about byte 0x1f. It does not ask for gzip
//     itself: a caller who disabled compression keeps the bytes on the wire
//     as they chose.
//   - It drops a redirect's Location that cannot be parsed, so that
//     http.Client hands the 3xx back (and the SDK reports it as a typed error)
//     instead of failing with an error that quotes the Location, query string
//     and any secret in it included.
type guardedTransport struct {
	rt http.RoundTripper
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if isRedirect(resp.StatusCode) {
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, perr := req.URL.Parse(loc); perr != nil {
				resp.Header.Del("Location")
			}
		}
	}
	if !resp.Uncompressed && req.Method != http.MethodHead &&
		strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		resp.Body = &gzipBody{rc: resp.Body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	return resp, nil
}

// gzipBody decodes a gzip body lazily: the gzip header is read on the first
// Read, so that opening a stream does not wait for its first bytes.
type gzipBody struct {
	rc  io.ReadCloser
	zr  *gzip.Reader
	err error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.zr == nil {
		zr, err := gzip.NewReader(b.rc)
		if err != nil {
			b.err = err
			return 0, err
		}
		b.zr = zr
	}
	n, err := b.zr.Read(p)
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *gzipBody) Close() error { return b.rc.Close() }
