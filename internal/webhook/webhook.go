// Package webhook holds what the providers' webhook receivers share: the
// sequence of a delivery (method, authentication before and after reading
// the body, a capped read, decoding, the application's function) and the
// statuses a provider's retry logic understands. Each provider keeps its own
// authentication and event types.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Opener authenticates and decodes one delivery's body. It returns the
// function that hands the event to the application, or the status refusing
// the delivery: 401 when the body is not authentic, 400 when it is not the
// expected JSON.
type Opener func(h http.Header, body []byte) (deliver func(context.Context) error, status int)

// Receive answers one delivery: 405 to anything but POST; 401 when preauth
// (what the headers alone can tell, checked before the body is read) fails;
// 413 for a body over maxBody, reading at most one byte past it; the status
// open returns; 500 when the application's function fails, so that the
// provider delivers again; and 200 only after it returned nil. Response
// bodies are fixed texts: no secret and no error of the application is ever
// written.
func Receive(w http.ResponseWriter, r *http.Request, maxBody int64, preauth func(http.Header) bool, open Opener) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed)
		return
	}
	if !preauth(r.Header) {
		refuse(w, http.StatusUnauthorized)
		return
	}
	body, status := readBody(w, r, maxBody)
	if status == 0 {
		var deliver func(context.Context) error
		if deliver, status = open(r.Header, body); status == 0 && deliver(r.Context()) != nil {
			status = http.StatusInternalServerError
		}
	}
	if status != 0 {
		refuse(w, status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// refuse writes status with its fixed text.
func refuse(w http.ResponseWriter, status int) {
	text := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		text = "delivery not authenticated"
	case http.StatusBadRequest:
		text = "invalid payload"
	case http.StatusInternalServerError:
		text = "event not processed"
	}
	http.Error(w, text, status)
}

// readBody reads at most limit bytes, and one more to detect a larger body.
// It returns a status other than 0 when the body is refused.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int) {
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge
	case err != nil:
		return nil, http.StatusBadRequest
	}
	return body, 0
}

// String returns the first of keys whose value in obj is a non-empty string
// or a number, as text, or "".
func String(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		raw := bytes.TrimSpace(obj[k])
		var s string
		switch {
		case len(raw) == 0:
		case raw[0] == '"':
			if json.Unmarshal(raw, &s) == nil && s != "" {
				return s
			}
		case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
			var n json.Number
			if json.Unmarshal(raw, &n) == nil {
				return n.String()
			}
		}
	}
	return ""
}

// ErrNotObject is returned by [Envelope] for a body that is not one JSON
// object.
var ErrNotObject = errors.New("body is not a JSON object")

// Envelope decodes body as one JSON object and returns its members and its
// event type, read from "event", else "type". A body that is not an object,
// or whose type is not a string, is an error the caller wraps in its own
// payload error.
func Envelope(body []byte) (map[string]json.RawMessage, string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, "", ErrNotObject
	}
	for _, k := range []string{"event", "type"} {
		raw, ok := top[k]
		if !ok {
			continue
		}
		var typ string
		if err := json.Unmarshal(raw, &typ); err != nil {
			return nil, "", fmt.Errorf("%q is not a string", k)
		}
		return top, typ, nil
	}
	return top, "", nil
}
