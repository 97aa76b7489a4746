package rest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

const slashKey = "sk-live/AbC+def=ghi"

func TestRedactorForms(t *testing.T) {
	t.Parallel()
	r := newRedactor(slashKey)
	forms := map[string]string{
		"literal":                   slashKey,
		"JSON \\/ (PHP)":            `sk-live\/AbC+def=ghi`,
		"JSON \\u002f":              `sk-live\u002fAbC+def=ghi`,
		"JSON \\u002F upper":        `sk-live\u002FAbC\u002bdef\u003dghi`,
		"%q of \\/":                 strings.Trim(fmt.Sprintf("%q", `sk-live\/AbC+def=ghi`), `"`),
		"%q of \\u002f":             strings.Trim(fmt.Sprintf("%q", `sk-live\u002fAbC+def=ghi`), `"`),
		"query-escaped":             url.QueryEscape(slashKey),
		"path-escaped":              url.PathEscape(slashKey),
		"percent lower case":        `sk-live%2fAbC%2bdef%3dghi`,
		"double percent-encoded":    `sk-live%252FAbC%252Bdef%253Dghi`,
		"mixed escapes":             `sk-live\/AbC%2Bdef\u003Dghi`,
		"HTML decimal and hex refs": `sk-live&#47;AbC&#x2B;def&#61;ghi`,
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := r.string("before " + form + " after")
			assert.Equal(t, "before [REDACTED] after", got)
			assert.Equal(t, "x[REDACTED]y", string(r.bytes([]byte("x"+form+"y"))))
		})
	}
	assert.Equal(t, "sk-live other text", r.string("sk-live other text"), "a prefix alone is not the key")
	var none *redactor
	assert.Equal(t, slashKey, none.string(slashKey))
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "short", truncate("short", 10))
	long := strings.Repeat("日", 100) // 300 bytes
	got := truncate(long, 100)
	assert.LessOrEqual(t, len(got), 100)
	assert.True(t, strings.HasSuffix(got, "…[truncated]"))
	assert.True(t, strings.HasPrefix(got, "日日"))
	assert.NotContains(t, got, "\uFFFD")
}

func TestBoundedFindsASecretAcrossTheCut(t *testing.T) {
	t.Parallel()
	r := newRedactor(slashKey)
	for _, form := range []string{slashKey, url.QueryEscape(slashKey), `sk-live\\u002fAbC%252Bdef&#x3D;ghi`} {
		s := strings.Repeat("a", 300) + form + strings.Repeat("b", 1<<20)
		for n := 280; n < 300+len(form)+20; n++ {
			got := r.bounded(s, n)
			assert.LessOrEqual(t, len(got), n)
			assert.NotContains(t, got, "sk-l", "n=%d", n)
		}
	}
}

func TestSafe(t *testing.T) {
	t.Parallel()
	c := &Client{cfg: Config{Provider: "workspace"}, redactor: newRedactor(slashKey)}
	require.NoError(t, c.Safe(nil))

	apiErr := &chatbot.Error{Provider: "workspace", StatusCode: 401, Code: chatbot.CodeUnauthorized,
		Message: `bad key sk-live\/AbC+def=ghi`, RequestID: strings.Repeat("r", 4<<20), Body: []byte(`{"k":"sk-live\u002fAbC+def=ghi"}`)}
	err := c.Safe(fmt.Errorf("outer %s: %w", url.QueryEscape(slashKey), apiErr))
	assert.Same(t, err, c.Safe(err), "Safe is idempotent")
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%s", err)} {
		assert.NotContains(t, text, "AbC")
		assert.LessOrEqual(t, len(text), maxErrorText+2) // %#v adds quotes
	}
	require.ErrorIs(t, err, chatbot.ErrUnauthorized)
	var got *chatbot.Error
	require.ErrorAs(t, err, &got)
	assert.Same(t, apiErr, got)
	assert.Equal(t, "bad key [REDACTED]", got.Message)
	assert.Equal(t, `{"k":"[REDACTED]"}`, string(got.Body))
	assert.LessOrEqual(t, len(got.RequestID), maxShort)
	assert.LessOrEqual(t, len(got.Error()), maxErrorText)

	wrapped := c.Safe(fmt.Errorf("x: %w", context.Canceled))
	assert.ErrorIs(t, wrapped, context.Canceled)
	assert.Equal(t, "x: context canceled", wrapped.Error())
}

func TestParseWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		unit time.Duration
		want time.Duration
	}{
		{"60", time.Second, time.Minute},
		{" 1.5 ", time.Second, 1500 * time.Millisecond},
		{"250", time.Millisecond, 250 * time.Millisecond},
		{"0", time.Second, 0},
		{"-5", time.Second, 0},
		{"NaN", time.Second, 0},
		{"soon", time.Second, 0},
		{"", time.Second, 0},
		{"1e-400", time.Second, 0},
		{"9223372037", time.Second, longestWait},
		{"99999999999999999999999999", time.Second, longestWait},
		{"1e300", time.Millisecond, longestWait},
		{"1e400", time.Second, longestWait},
		{"+Inf", time.Second, 0},
		{"Inf", time.Second, 0},
		{"Infinity", time.Second, 0},
		{"0x1p4", time.Second, 0},
		{"1_0", time.Second, 0},
		{"+5", time.Second, 0},
		{".5", time.Second, 0},
		{"05", time.Second, 0},
		{"2e3", time.Millisecond, 2 * time.Second},
		{"1.5E+1", time.Second, 15 * time.Second},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseWait(tt.in, tt.unit), "%q", tt.in)
	}
}

func TestHasControl(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < 0x20; r++ {
		assert.True(t, hasControl("a"+string(r)+"b"), "%U", r)
	}
	assert.True(t, hasControl("a\x7fb"))
	assert.False(t, hasControl("sk-live_ABC/é+="))
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://api.example/v1/")
	for in, want := range map[string]bool{
		"https://api.example/other":          true,
		"https://API.EXAMPLE:443/v1/x":       true,
		"http://api.example/v1/":             false,
		"https://api.example:8443/v1/":       false,
		"https://evil.example/v1/":           false,
		"https://api.example.evil.example/":  false,
		"https://user:pw@api.example/v1/abc": true,
	} {
		u, err := url.Parse(in)
		require.NoError(t, err)
		assert.Equal(t, want, sameOrigin(u, base), in)
	}
}

func TestGuardDoesNotMutateTheCallersClient(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1:1/")
	c := &Client{base: base}
	tr := &http.Transport{}
	var calls int
	own := func(*http.Request, []*http.Request) error { calls++; return errors.New("mine") }
	hc := &http.Client{Transport: tr, CheckRedirect: own, Timeout: time.Hour}
	g := c.guard(hc)
	assert.Same(t, tr, hc.Transport)
	assert.Equal(t, time.Hour, g.Timeout)
	require.Error(t, hc.CheckRedirect(nil, nil))
	assert.Equal(t, 1, calls)
	assert.Same(t, tr, g.Transport.(*guardedTransport).rt)
	_, closes := any(g.Transport).(interface{ CloseIdleConnections() })
	assert.False(t, closes, "the guarded transport must not forward CloseIdleConnections")
}

func TestHTMLNamesAreTheCharactersTheyName(t *testing.T) {
	t.Parallel()
	for r, names := range htmlNames {
		for _, name := range names {
			assert.Equal(t, string(r), html.UnescapeString("&"+name+";"), "&%s;", name)
			assert.LessOrEqual(t, len(name)+2, maxEncodedRune, "the margin covers &%s;", name)
		}
	}
}

func BenchmarkRedact64KiB(b *testing.B) {
	r := newRedactor(slashKey)
	body := []byte(strings.Repeat(`{"error":"sk-live is not a key","detail":"lorem ipsum dolor"}`, (64<<10)/60))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r.boundedBytes(body, 64<<10)
	}
}
