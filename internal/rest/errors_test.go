package rest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		body         string
		want         error
		providerCode string
		message      string
	}{
		{"workspace 401", 401, `{"success":false,"error":"Invalid or inactive API key","code":"INVALID_API_KEY"}`,
			chatbot.ErrUnauthorized, "INVALID_API_KEY", "Invalid or inactive API key"},
		{"workspace 402", 402, `{"success":false,"error":"Insufficient credits to generate AI response.","code":"INSUFFICIENT_CREDITS"}`,
			chatbot.ErrQuotaExceeded, "INSUFFICIENT_CREDITS", "Insufficient credits to generate AI response."},
		{"sitegpt validation", 400, `{"success":false,"message":"Request failed","data":null,"error":{"code":"REQUEST_VALIDATION_FAILED","message":"Invalid body","details":[{"path":["message"],"message":"Required"}]}}`,
			chatbot.ErrInvalidRequest, "REQUEST_VALIDATION_FAILED", "Invalid body: message: Required"},
		{"sitegpt quota on 403", 403, `{"success":false,"message":"x","data":null,"error":{"code":"MESSAGES_LIMIT_REACHED","message":"Messages limit reached","details":null}}`,
			chatbot.ErrQuotaExceeded, "MESSAGES_LIMIT_REACHED", "Messages limit reached"},
		{"sitegpt forbidden", 403, `{"success":false,"error":{"code":"CHATBOT_FETCH_FORBIDDEN","message":"Forbidden"}}`,
			chatbot.ErrForbidden, "CHATBOT_FETCH_FORBIDDEN", "Forbidden"},
		{"provider code wins over status", 400, `{"code":"CHATBOT_NOT_FOUND","error":"gone"}`,
			chatbot.ErrNotFound, "CHATBOT_NOT_FOUND", "gone"},
		{"stammer validation", 400, `{"message":"The provided parameters are not valid.","errors":{"query":["This field is required."],"chatbot_uuid":["Must be a valid UUID."]}}`,
			chatbot.ErrInvalidRequest, "", "The provided parameters are not valid: chatbot_uuid: Must be a valid UUID.; query: This field is required."},
		{"DRF detail", 401, `{"detail":"Invalid token."}`, chatbot.ErrUnauthorized, "", "Invalid token."},
		{"DRF not found", 404, `{"detail":"Not found."}`, chatbot.ErrNotFound, "", "Not found."},
		{"DRF bare fields", 400, `{"query":["Ensure this field has no more than 5000 characters."]}`,
			chatbot.ErrInvalidRequest, "", "query: Ensure this field has no more than 5000 characters."},
		{"no provider heuristic in rest", 400, `{"error":"You do not have enough credits."}`, chatbot.ErrInvalidRequest, "", "You do not have enough credits."},
		{"userdesk message", 403, `{"success":false,"message":"Access to this chatbot is denied"}`, chatbot.ErrForbidden, "", "Access to this chatbot is denied"},
		{"empty body", 401, ``, chatbot.ErrUnauthorized, "", ""},
		{"html body", 502, `<html><body>Bad Gateway</body></html>`, chatbot.ErrServer, "", ""},
		{"405", 405, ``, chatbot.ErrInvalidRequest, "", ""},
		{"422", 422, `[]`, chatbot.ErrInvalidRequest, "", ""},
		{"413", 413, `null`, chatbot.ErrInvalidRequest, "", ""},
		{"wrong types", 500, `{"error":42,"code":{"x":1},"message":{"a":1}}`, chatbot.ErrServer, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, status(tt.status, tt.body), chatbot.WithMaxRetries(0))
			_, err := c.Do(t.Context(), chatCall, nil)
			require.ErrorIs(t, err, tt.want)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "workspace", apiErr.Provider)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.providerCode, apiErr.ProviderCode)
			assert.Equal(t, tt.message, apiErr.Message)
			assert.Equal(t, tt.body, string(apiErr.Body))
		})
	}
}

func TestErrorRedactsEchoedKey(t *testing.T) {
	t.Parallel()
	body := `{"error":"key ` + testKey + ` is not valid","code":"INVALID_API_KEY"}`
	c, _ := setup(t, status(401, body))
	_, err := c.Do(t.Context(), chatCall, nil)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, string(apiErr.Body), testKey)
	assert.Equal(t, "key [REDACTED] is not valid", apiErr.Message)
}

func TestErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, status(500, strings.Repeat("x", 1<<20)))
	_, err := c.Do(t.Context(), chatCall, nil)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
}

func TestSuccessBodyIsCapped(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, status(200, `{"a":"`+strings.Repeat("x", 9<<20)+`"}`))
	_, err := c.Do(t.Context(), chatCall, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceeds 8 MiB")
}

func TestNonJSONSuccessIsADecodingError(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("maintenance"))
	})
	var out struct{}
	_, err := c.Do(t.Context(), chatCall, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "workspace: decoding 200 response (text/plain)")
	var apiErr *chatbot.Error
	assert.False(t, errors.As(err, &apiErr), "a decoding failure is not a provider error")
}

func TestRetryAfterSources(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // the client's clock
	tests := []struct {
		name string
		h    http.HandlerFunc
		want time.Duration
	}{
		{"Retry-After-Ms first", status(429, `{"retryAfter":60}`, "Retry-After-Ms", "1500", "Retry-After", "30"), 1500 * time.Millisecond},
		{"Retry-After seconds", status(429, `{"retryAfter":60}`, "Retry-After", "30"), 30 * time.Second},
		{"Retry-After date", status(429, ``, "Retry-After", now.Add(45*time.Second).Format(http.TimeFormat)), 45 * time.Second},
		{"body number", status(429, `{"retryAfter":60}`), 60 * time.Second},
		{"body string", status(429, `{"retryAfter":"2.5"}`), 2500 * time.Millisecond},
		{"rate-limit reset", status(429, ``, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", itoa(now.Add(90*time.Second).Unix())), 90 * time.Second},
		{"garbage", status(429, `{"retryAfter":-1}`, "Retry-After", "soon"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, _ := setupClock(t, now, tt.h, chatbot.WithMaxRetries(0))
			_, err := c.Do(t.Context(), chatCall, nil)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.want, apiErr.RetryAfter)
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Nil(t, rest.ParseRateLimit(h, now))
	h.Set("X-RateLimit-Limit", "1000")
	h.Set("X-RateLimit-Remaining", "998")
	h.Set("X-RateLimit-Used", "2")
	h.Set("X-RateLimit-Reset", "1767225600")
	assert.Equal(t, &chatbot.RateLimit{Limit: 1000, Remaining: 998, Used: 2, Reset: time.Unix(1767225600, 0)}, rest.ParseRateLimit(h, now))
	h.Set("X-RateLimit-Reset", "1767225600123")
	assert.Equal(t, time.UnixMilli(1767225600123), rest.ParseRateLimit(h, now).Reset)
	h.Set("X-RateLimit-Reset", "90")
	assert.Equal(t, now.Add(90*time.Second), rest.ParseRateLimit(h, now).Reset, "seconds from now")

	c, _ := setup(t, status(200, `{}`, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "9"))
	resp, err := c.Do(t.Context(), chatCall, nil)
	require.NoError(t, err)
	assert.Equal(t, &chatbot.RateLimit{Limit: 10, Remaining: 9}, resp.RateLimit)
}

func TestPathEscapesEverySegment(t *testing.T) {
	t.Parallel()
	c, srv := setup(t, ok200)
	for _, id := range []string{"a/b", "a?b", "a#b", "a b", "100%", "../x", "é"} {
		p, err := c.Path("chatbots/%s/chat", id)
		require.NoError(t, err)
		_, err = c.Do(t.Context(), rest.Call{Method: http.MethodPost, Path: p}, nil)
		require.NoError(t, err)
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.Path)
	}
	assert.Equal(t, []string{
		"/api/v1/chatbots/a%2Fb/chat", "/api/v1/chatbots/a%3Fb/chat", "/api/v1/chatbots/a%23b/chat",
		"/api/v1/chatbots/a%20b/chat", "/api/v1/chatbots/100%25/chat", "/api/v1/chatbots/..%2Fx/chat",
		"/api/v1/chatbots/%C3%A9/chat",
	}, got)
	for _, bad := range []string{"", " ", ".", "..", "\xff", "a\x00"} {
		_, err := c.Path("chatbots/%s/chat", bad)
		assert.ErrorIs(t, err, chatbot.ErrInvalidRequest, "%q", bad)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	cfg := testConfig
	for name, tc := range map[string]struct {
		key  string
		opts []chatbot.Option
	}{
		"empty key":     {key: ""},
		"key with CRLF": {key: "abc\r\nX-Evil: 1"},
		"bad base URL":  {key: "k", opts: []chatbot.Option{chatbot.WithBaseURL("http://example.com")}},
		"bad retries":   {key: "k", opts: []chatbot.Option{chatbot.WithMaxRetries(-2)}},
	} {
		_, err := rest.New(cfg, tc.key, tc.opts)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, name)
		var apiErr *chatbot.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "workspace", apiErr.Provider)
		assert.Zero(t, apiErr.StatusCode)
	}
}

// TestOptionalKeySendsNoAuthorization: a provider that serves calls without
// a key (Config.KeyOptional) accepts an empty key and then sends no
// Authorization header at all; a key given is still sent.
func TestOptionalKeySendsNoAuthorization(t *testing.T) {
	t.Parallel()
	srv := fake.NewServer(status(200, `{}`))
	t.Cleanup(srv.Close)
	cfg := testConfig
	cfg.KeyOptional = true
	for _, key := range []string{"", testKey} {
		c, err := rest.New(cfg, key, []chatbot.Option{chatbot.WithBaseURL(srv.URL)})
		require.NoError(t, err)
		_, err = c.Do(t.Context(), chatCall, nil)
		require.NoError(t, err)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	_, sent := reqs[0].Header["Authorization"]
	assert.False(t, sent, "no Authorization header without a key")
	assert.Equal(t, "Bearer "+testKey, reqs[1].Header.Get("Authorization"))

	_, err := rest.New(testConfig, "", []chatbot.Option{chatbot.WithBaseURL(srv.URL)})
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "a key is required unless the provider says otherwise")
}

// TestNoDefaultBaseURL: a provider without a default host refuses a client
// built without chatbot.WithBaseURL, with an error naming the option.
func TestNoDefaultBaseURL(t *testing.T) {
	t.Parallel()
	cfg := testConfig
	cfg.DefaultBaseURL = ""
	_, err := rest.New(cfg, testKey, nil)
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "chatbot.WithBaseURL")

	c, err := rest.New(cfg, testKey, []chatbot.Option{chatbot.WithBaseURL("https://flowise.example.com")})
	require.NoError(t, err)
	assert.Equal(t, "https://flowise.example.com/", c.BaseURL())
}
