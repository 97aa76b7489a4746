package stammer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// Account is the user a token belongs to, as returned by [Client.Me].
// Stammer does not publish this response's shape: the fields below are read
// where present (at the top level, or under "data" or "user") and left empty
// otherwise; Raw always holds the whole body.
type Account struct {
	ID        string // "id", a number or a string on the wire
	Username  string // "username"
	Email     string // "email"
	FirstName string // "first_name"
	LastName  string // "last_name"

	// Raw is the response body, for fields the SDK does not map.
	Raw json.RawMessage
}

type accountFields struct {
	ID        flexID `json:"id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// Me returns the account the token belongs to, which makes it a cheap
// credentials check: a bad token fails with a *[chatbot.Error] matching
// [chatbot.ErrUnauthorized]. The endpoint, GET user/api/v1/me/, is joined
// onto the base URL, locale included.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api
func (c *Client) Me(ctx context.Context) (*Account, error) {
	path := pathMe
	resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: path}, nil)
	if err != nil {
		return nil, err
	}
	var f accountFields
	if err := json.Unmarshal(unwrap(resp.Body, "data", "user"), &f); err != nil {
		return nil, c.rest.Safe(fmt.Errorf("stammer: me: decoding %d response: %w", resp.StatusCode, err))
	}
	return &Account{
		ID:        string(f.ID),
		Username:  f.Username,
		Email:     f.Email,
		FirstName: f.FirstName,
		LastName:  f.LastName,
		Raw:       rawJSON(resp.Body),
	}, nil
}

// unwrap returns the object under the first of keys that holds one, or body
// itself.
func unwrap(body []byte, keys ...string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, k := range keys {
		if v := m[k]; len(v) > 0 && v[0] == '{' {
			return v
		}
	}
	return body
}

// rawJSON returns body as a json.RawMessage, or nil when it is empty or not
// JSON (a RawMessage must stay marshallable).
func rawJSON(body []byte) json.RawMessage {
	if len(body) == 0 || !json.Valid(body) {
		return nil
	}
	return json.RawMessage(body)
}
