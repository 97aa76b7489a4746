package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Deliver POSTs body to url with header, as a provider delivers a webhook,
// and returns the receiver's status. With a nil client it uses a client of
// its own and closes that client's idle connections before returning, so no
// connection outlives the call. The response body is read (at most 64 KiB)
// and closed. Errors name the URL, never a header value.
func Deliver(ctx context.Context, client *http.Client, url string, header http.Header, body []byte) (int, error) {
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer client.CloseIdleConnections()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook delivery: %w", err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook delivery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Tamper returns a copy of b with exactly one byte changed: the case of its
// last ASCII letter is flipped, or, with no letter, its last byte's low bit.
// An empty b is returned as it is.
func Tamper(b []byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		if c := out[i] | 0x20; c >= 'a' && c <= 'z' {
			out[i] ^= 0x20
			return out
		}
	}
	if len(out) > 0 {
		out[len(out)-1] ^= 1
	}
	return out
}

// EventBody is the body a fake delivers for event: event itself when it is
// a []byte or a json.RawMessage (sent verbatim), its JSON encoding otherwise.
func EventBody(event any) ([]byte, error) {
	switch v := event.(type) {
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(event)
}
