package rest_test

// Tests of issue 13's promises through the public API of every provider
// (NewClient, Chat, Stream) against loopback servers: redirects, secrets in
// errors, values from the wire, HTML pages, gzip, the caller's pool, and
// Collect's bound. They rely on nothing inside internal/rest.
//
// The top-level tests are not parallel (their subtests are): go test runs
// them before any parallel test resumes, so their hundreds of servers never
// compete with the package's tests that still read the wall clock.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/workspace"
)

// secKey contains a "/" so that its JSON-escaped (PHP "\/", "\u002f") and
// URL-encoded ("%2F") forms differ from the literal one.
const secKey = "sk-live/SECRETSECRET0123456789"

// secretForms are the forms of secKey that must never be printed.
var secretForms = []string{secKey, `sk-live\/SECRET`, `sk-live\u002fSECRET`, "sk-live%2FSECRET", "sk-live%2fSECRET", "SECRETSECRET"}

// chatbotID is valid for every provider (Stammer wants a UUID).
const chatbotID = "12345678-1234-5678-1234-567812345678"

type secProvider struct {
	name      string
	newClient func(key string, opts ...chatbot.Option) (chatbot.Chatbot, error)
	reply     string // a successful non-streamed reply saying "hello"
}

var secProviders = []secProvider{
	{"workspace", func(key string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
		return workspace.NewClient(key, chatbotID, opts...)
	}, `{"success":true,"data":{"response":"hello","conversationId":"c1","messageId":"m1"}}`},
	{"userdesk", func(key string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
		return userdesk.NewClient(key, chatbotID, opts...)
	}, `{"success":true,"conversationId":"c1","response":"hello"}`},
	{"stammer", func(key string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
		return stammer.NewClient(key, chatbotID, opts...)
	}, `{"message":"ok","data":{"answer":"hello","chat_id":7}}`},
	{"sitegpt", func(key string, opts ...chatbot.Option) (chatbot.Chatbot, error) {
		return sitegpt.NewClient(key, chatbotID, opts...)
	}, `{"success":true,"data":{"message":{"id":"7","threadId":"c1","answer":{"text":"hello"}}}}`},
}

// modes are the two ways a chat message is sent; req continues a
// conversation so that no provider first creates one.
var modes = []string{"chat", "stream"}

var req = chatbot.Request{Message: "hi", ConversationID: "c1"}

func send(ctx context.Context, bot chatbot.Chatbot, mode string) (*chatbot.Reply, error) {
	if mode == "chat" {
		return bot.Chat(ctx, req)
	}
	return chatbot.Collect(bot.Stream(ctx, req))
}

// newBot builds p's client against base with opts.
func newBot(t *testing.T, p secProvider, base string, opts ...chatbot.Option) chatbot.Chatbot {
	t.Helper()
	bot, err := p.newClient(secKey, append([]chatbot.Option{chatbot.WithBaseURL(base + "/")}, opts...)...)
	require.NoError(t, err)
	return bot
}

// counter is an httptest server counting requests by method and recording
// the Authorization headers it saw.
type counter struct {
	*httptest.Server
	mu    sync.Mutex
	count map[string]int // "*" (all), "POST", "GET", "GET /after", …
	auth  []string
}

func newCounter(t *testing.T, tlsServer bool, h func(w http.ResponseWriter, r *http.Request)) *counter {
	c := &counter{count: map[string]int{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.count["*"]++
		c.count[r.Method]++
		c.count[r.Method+" "+r.URL.Path]++
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		c.mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		h(w, r)
	})
	if tlsServer {
		c.Server = httptest.NewTLSServer(handler)
	} else {
		c.Server = httptest.NewServer(handler)
	}
	t.Cleanup(c.Close)
	return c
}

func (c *counter) n(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[key]
}

func (c *counter) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.auth...)
}

// closedURL returns a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	return u
}

// requireNoSecret checks every way err can be printed.
func requireNoSecret(t *testing.T, err error) {
	t.Helper()
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) {
		texts = append(texts, apiErr.Error(), fmt.Sprintf("%+v", *apiErr), string(apiErr.Body), apiErr.Message, apiErr.RequestID, apiErr.ProviderCode)
	}
	for _, text := range texts {
		for _, form := range secretForms {
			require.NotContains(t, text, form)
		}
		require.NotContains(t, text, "api_key")
	}
}

func apiError(t *testing.T, err error) *chatbot.Error {
	t.Helper()
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	return apiErr
}

// TestChatPOSTIsNeverSentTwiceAcrossRedirects: a chat POST answered with a
// 3xx follows no redirect, whatever the redirect leads to (a 429, a 503, a
// port nobody listens on, a connection reset), and is never retried.
func TestChatPOSTIsNeverSentTwiceAcrossRedirects(t *testing.T) {
	codes := []int{301, 302, 303, 307, 308}
	dial := closedURL(t)
	next := []struct {
		name     string
		location func(base string) string
	}{
		{"then 429", func(base string) string { return base + "/after/429?api_key=" + url.QueryEscape(secKey) }},
		{"then 503", func(base string) string { return base + "/after/503?api_key=" + url.QueryEscape(secKey) }},
		{"then dial error", func(string) string { return dial + "/after/dial?api_key=" + url.QueryEscape(secKey) }},
		{"then reset", func(base string) string { return base + "/after/reset#" + secKey }},
	}
	for _, p := range secProviders {
		for _, mode := range modes {
			for _, code := range codes {
				for _, n := range next {
					t.Run(fmt.Sprintf("%s/%s/%d %s", p.name, mode, code, n.name), func(t *testing.T) {
						t.Parallel()
						var srv *counter
						srv = newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
							switch r.URL.Path {
							case "/after/429":
								w.Header().Set("Retry-After", "0")
								w.WriteHeader(http.StatusTooManyRequests)
							case "/after/503":
								w.Header().Set("Retry-After", "0")
								w.WriteHeader(http.StatusServiceUnavailable)
							case "/after/reset":
								conn, _, err := http.NewResponseController(w).Hijack()
								if assert.NoError(t, err) {
									_ = conn.(*net.TCPConn).SetLinger(0)
									_ = conn.Close()
								}
							default:
								w.Header().Set("Location", n.location(srv.URL))
								w.Header().Set("Content-Type", "application/json")
								w.WriteHeader(code)
								_, _ = io.WriteString(w, `{"code":"RATE_LIMIT_EXCEEDED","retryAfter":0}`)
							}
						})
						bot := newBot(t, p, srv.URL, chatbot.WithMaxRetryWait(time.Second))
						reply, err := send(t.Context(), bot, mode)
						require.Error(t, err)
						assert.Equal(t, 1, srv.n("POST"), "POSTs the server received")
						assert.Equal(t, 1, srv.n("*"), "requests the server received")
						if reply != nil {
							assert.Empty(t, reply.Text)
						}
						apiErr := apiError(t, err)
						assert.Equal(t, code, apiErr.StatusCode)
						assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
						assert.Zero(t, apiErr.RetryAfter)
						assert.NotErrorIs(t, err, chatbot.ErrRateLimited)
						assert.NotErrorIs(t, err, chatbot.ErrServer)
						target, _, _ := strings.Cut(n.location(srv.URL), "?")
						target, _, _ = strings.Cut(target, "#")
						assert.Equal(t, fmt.Sprintf("%s: %d UNKNOWN: redirect to %s not followed: a POST is never resent after a redirect, and the provider may have processed it",
							p.name, code, target), err.Error())
						requireNoSecret(t, err)
					})
				}
			}
		}
	}
}

// TestKeyNeverReachesAnotherOrigin: a redirect to the same host name on
// another port, or to another scheme, is not followed, for a GET (which
// net/http would follow with the Authorization header) as for a POST, with
// the SDK's own client and with a caller's client whose CheckRedirect would
// follow anything.
func TestKeyNeverReachesAnotherOrigin(t *testing.T) {
	others := []struct {
		name string
		tls  bool
	}{{"other port", false}, {"other scheme and port", true}}
	clients := []struct {
		name string
		opts func(*counter) []chatbot.Option
	}{
		{"own client", func(*counter) []chatbot.Option { return nil }},
		{"caller's client", func(other *counter) []chatbot.Option {
			tr := other.Client().Transport.(*http.Transport).Clone() // trusts the TLS server
			return []chatbot.Option{chatbot.WithHTTPClient(&http.Client{Transport: tr,
				CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})}
		}},
	}
	for _, o := range others {
		for _, cl := range clients {
			t.Run(o.name+"/"+cl.name, func(t *testing.T) {
				t.Parallel()
				other := newCounter(t, o.tls, func(w http.ResponseWriter, _ *http.Request) {
					_, _ = io.WriteString(w, `{"data":{"id":"u1"}}`)
				})
				// other's URL with 127.0.0.1 replaced by "localhost" would change
				// the host name; keep the very same host name as the base.
				require.True(t, strings.Contains(other.URL, "127.0.0.1"))
				base := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Location", other.URL+"/stolen?api_key="+url.QueryEscape(secKey))
					w.WriteHeader(http.StatusFound)
				})
				st, err := stammer.NewClient(secKey, chatbotID, append([]chatbot.Option{chatbot.WithBaseURL(base.URL + "/")}, cl.opts(other)...)...)
				require.NoError(t, err)

				_, getErr := st.Me(t.Context())
				_, chatErr := st.Chat(t.Context(), req)
				assert.Empty(t, other.seen(), "the other origin received a request, and so the key")
				assert.Equal(t, 1, base.n("GET"))
				assert.Equal(t, 1, base.n("POST"))

				require.Error(t, getErr)
				assert.Equal(t, fmt.Sprintf("stammer: 302 UNKNOWN: redirect to %s/stolen not followed: it leaves the base URL's origin %s",
					other.URL, base.URL), getErr.Error())
				requireNoSecret(t, getErr)
				require.Error(t, chatErr)
				requireNoSecret(t, chatErr)
			})
		}
	}
}

// TestSameOriginGETRedirect: a GET follows a redirect within the base URL's
// origin, and the caller's CheckRedirect still has its say, on a client the
// SDK did not modify.
func TestSameOriginGETRedirect(t *testing.T) {
	srv := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/user/api/v1/me/":
			http.Redirect(w, r, "/moved/1", http.StatusMovedPermanently)
		case "/moved/1":
			http.Redirect(w, r, "/moved/2", http.StatusTemporaryRedirect)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{"id":"u1","email":"a@b.c"}}`)
		}
	})
	var callerChecks atomic.Int64
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	check := func(*http.Request, []*http.Request) error { callerChecks.Add(1); return nil }
	hc := &http.Client{Transport: tr, CheckRedirect: check}
	st, err := stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/"), chatbot.WithHTTPClient(hc))
	require.NoError(t, err)

	acct, err := st.Me(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "u1", acct.ID)
	assert.Equal(t, []string{"Token " + secKey, "Token " + secKey, "Token " + secKey}, srv.seen())
	assert.Equal(t, int64(2), callerChecks.Load(), "the caller's CheckRedirect ran for each hop")
	assert.Same(t, tr, hc.Transport, "the caller's client was modified")
	require.NoError(t, hc.CheckRedirect(nil, nil))
	assert.Equal(t, int64(3), callerChecks.Load(), "the caller's CheckRedirect was replaced")

	// The caller's CheckRedirect refusing is a typed error, not retried.
	refusing := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	st, err = stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/"), chatbot.WithHTTPClient(refusing))
	require.NoError(t, err)
	before := srv.n("GET")
	_, err = st.Me(t.Context())
	assert.Equal(t, fmt.Sprintf("stammer: 301 UNKNOWN: redirect to %s/moved/1 not followed: the http.Client's CheckRedirect stopped it", srv.URL), err.Error())
	assert.Equal(t, before+1, srv.n("GET"))

	// The caller's CheckRedirect failing is the caller's error, not retried.
	errNo := errors.New("no redirects here")
	failing := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return errNo }}
	st, err = stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/"), chatbot.WithHTTPClient(failing))
	require.NoError(t, err)
	before = srv.n("GET")
	_, err = st.Me(t.Context())
	require.ErrorIs(t, err, errNo)
	assert.Equal(t, "stammer: GET user/api/v1/me/: redirect refused: no redirects here", err.Error())
	assert.Equal(t, before+1, srv.n("GET"), "retried")
}

func TestTooManyRedirects(t *testing.T) {
	var hops atomic.Int64
	srv := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("/hop/%d?token=%s", hops.Add(1), url.QueryEscape(secKey)), http.StatusFound)
	})
	st, err := stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/"))
	require.NoError(t, err)
	_, err = st.Me(t.Context())
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("stammer: 302 UNKNOWN: redirect to %s/hop/4 not followed: more than 3 redirects", srv.URL), err.Error())
	assert.Equal(t, 4, srv.n("GET"), "the first GET and 3 redirects, not retried")
	requireNoSecret(t, err)
}

// TestUnparseableLocation: net/http fails on a Location it cannot parse with
// an error quoting it, query string and key included. The SDK reports the
// redirect as a typed error instead.
func TestUnparseableLocation(t *testing.T) {
	for _, p := range secProviders {
		for _, mode := range modes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Location", "http://%zz/cb?api_key="+secKey)
					w.WriteHeader(http.StatusSeeOther)
				})
				_, err := send(t.Context(), newBot(t, p, srv.URL), mode)
				require.Error(t, err)
				assert.Equal(t, p.name+": 303 UNKNOWN: redirect not followed: a POST is never resent after a redirect, and the provider may have processed it", err.Error())
				requireNoSecret(t, err)
				assert.Equal(t, 1, srv.n("POST"))
			})
		}
	}
	srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "http://%zz/cb?api_key="+secKey)
		w.WriteHeader(http.StatusFound)
	})
	st, err := stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/"))
	require.NoError(t, err)
	_, err = st.Me(t.Context())
	assert.Equal(t, "stammer: 302 UNKNOWN: redirect without a usable Location not followed", err.Error())
	assert.Equal(t, 1, srv.n("GET"))
}

// TestEchoedKeyIsRedactedInEveryForm: a server that echoes the key literally,
// JSON-escaped as PHP writes it, with \u escapes and URL-encoded, in the body
// and in the request id, gets none of them printed or kept.
func TestEchoedKeyIsRedactedInEveryForm(t *testing.T) {
	const body = `{"success":false,"error":"bad key sk-live\/SECRETSECRET0123456789",` +
		`"message":"sk-live\u002fSECRETSECRET0123456789","code":"sk-live%2FSECRETSECRET0123456789",` +
		`"details":["sk-live%2fSECRETSECRET0123456789"]}`
	for _, p := range secProviders {
		for _, mode := range modes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Request-Id", "req-"+url.QueryEscape(secKey))
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = io.WriteString(w, body)
				})
				_, err := send(t.Context(), newBot(t, p, srv.URL), mode)
				require.ErrorIs(t, err, chatbot.ErrUnauthorized)
				requireNoSecret(t, err)
				apiErr := apiError(t, err)
				assert.Equal(t, "bad key [REDACTED]: [REDACTED]", apiErr.Message)
				assert.Equal(t, "req-[REDACTED]", apiErr.RequestID)
				assert.Equal(t, "[REDACTED]", apiErr.ProviderCode)
				assert.Equal(t, `{"success":false,"error":"bad key [REDACTED]","message":"[REDACTED]","code":"[REDACTED]","details":["[REDACTED]"]}`,
					string(apiErr.Body))
				assert.Equal(t, p.name+": 401 UNAUTHORIZED ([REDACTED]): bad key [REDACTED]: [REDACTED] [request id req-[REDACTED]]", err.Error())
				assert.Equal(t, err.Error(), fmt.Sprintf("%+v", err))
			})
		}
	}
}

// TestDecodingErrorQuotingTheKey: a JSON decoding error that quotes a field's
// value (time.Time's parse error does) does not print the key.
func TestDecodingErrorQuotingTheKey(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"success":true,"data":{"message":{"id":"7","answer":{"text":"hi","timestamp":"sk-live\/SECRETSECRET0123456789"}}}}`)
			})
			_, err := send(t.Context(), newBot(t, secProviders[3], srv.URL), mode)
			require.Error(t, err)
			const want = `sitegpt: send message: decoding data: parsing time "[REDACTED]" as "2006-01-02T15:04:05Z07:00": cannot parse "[REDACTED]" as "2006"`
			assert.Equal(t, want, err.Error())
			assert.Equal(t, want, fmt.Sprintf("%+v", err))
			requireNoSecret(t, err)
			var perr *time.ParseError
			assert.ErrorAs(t, err, &perr, "errors.As still reaches the cause")
		})
	}
}

// TestErrorTextIsBounded: a 4 MiB X-Request-Id and a 64 KiB message do not
// make a 4 MiB error string.
func TestErrorTextIsBounded(t *testing.T) {
	srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", strings.Repeat("r", 4<<20))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"`+strings.Repeat("m", 64<<10)+`"}`)
	})
	tr := &http.Transport{MaxResponseHeaderBytes: 16 << 20}
	defer tr.CloseIdleConnections()
	for _, mode := range modes {
		_, err := send(t.Context(), newBot(t, secProviders[0], srv.URL, chatbot.WithHTTPClient(&http.Client{Transport: tr})), mode)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
		assert.LessOrEqual(t, len(err.Error()), 8<<10)
		assert.LessOrEqual(t, len(fmt.Sprintf("%+v", err)), 8<<10)
		apiErr := apiError(t, err)
		assert.LessOrEqual(t, len(apiErr.Error()), 8<<10)
		assert.LessOrEqual(t, len(apiErr.RequestID), 256)
		assert.LessOrEqual(t, len(apiErr.Message), 4<<10)
		assert.True(t, strings.HasPrefix(apiErr.RequestID, "rrrr"))
	}
}

// TestHugeWaitsAreLongWaits: a wait too large to represent comes back at once
// as a rate-limit error with the longest RetryAfter, never as "no wait".
func TestHugeWaitsAreLongWaits(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		body    string
	}{
		{"Retry-After date in year 9999", map[string]string{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, `{}`},
		{"Retry-After digits", map[string]string{"Retry-After": "99999999999999999999999999"}, `{}`},
		{"Retry-After-Ms 1e300", map[string]string{"Retry-After-Ms": "1e300"}, `{}`},
		{"body retryAfter 1e400", nil, `{"error":"slow down","retryAfter":1e400}`},
		{"body retryAfter string", nil, `{"error":"slow down","retryAfter":"1e30"}`},
		{"X-RateLimit-Reset 1e300", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e300"}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, tt.body)
			})
			_, err := send(t.Context(), newBot(t, secProviders[0], srv.URL, chatbot.WithMaxRetries(5)), "chat")
			require.ErrorIs(t, err, chatbot.ErrRateLimited)
			assert.Equal(t, time.Duration(math.MaxInt64), apiError(t, err).RetryAfter)
			assert.Equal(t, 1, srv.n("POST"), "not retried")
		})
	}
}

// TestControlCharactersRefused: a key or a User-Agent with any control
// character is refused by NewClient with ErrInvalidRequest, before anything
// is sent.
func TestControlCharactersRefused(t *testing.T) {
	var ctl []rune
	for r := rune(0); r < 0x20; r++ {
		ctl = append(ctl, r)
	}
	ctl = append(ctl, 0x7f)
	for _, p := range secProviders {
		for _, r := range ctl {
			_, err := p.newClient("sk-abc"+string(r)+"def", chatbot.WithBaseURL("http://127.0.0.1:1/"))
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "%s key with %U", p.name, r)
			assert.NotContains(t, err.Error(), "sk-abc")
			_, err = p.newClient("sk-abcdef", chatbot.WithBaseURL("http://127.0.0.1:1/"), chatbot.WithUserAgent("app/1"+string(r)+"x"))
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "%s user agent with %U", p.name, r)
		}
		_, err := p.newClient("sk-abcdef", chatbot.WithUserAgent("  app/1 (x; y)  "))
		require.NoError(t, err)
	}
}

// TestHTMLPageIsNeverAReply: a 2xx login page or captive portal is a typed
// error from Chat and Stream, never a reply (nor, for Userdesk's text
// stream, the reply's text).
func TestHTMLPageIsNeverAReply(t *testing.T) {
	const page = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Log in</body></html>"
	contentTypes := []string{"text/html; charset=utf-8", "application/xhtml+xml"}
	for _, p := range secProviders {
		for _, mode := range modes {
			for _, ct := range append(contentTypes, "application/json", "") {
				t.Run(p.name+"/"+mode+"/"+ct, func(t *testing.T) {
					t.Parallel()
					srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
						w.Header()["Content-Type"] = nil // "": none, not sniffed by net/http
						if ct != "" {
							w.Header().Set("Content-Type", ct)
						}
						_, _ = io.WriteString(w, page)
					})
					reply, err := send(t.Context(), newBot(t, p, srv.URL), mode)
					require.Error(t, err)
					if reply != nil {
						assert.Empty(t, reply.Text)
					}
					apiErr := apiError(t, err)
					assert.Equal(t, http.StatusOK, apiErr.StatusCode)
					assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
					assert.Equal(t, p.name+": 200 UNKNOWN: the response is an HTML page, not an API reply (a login page, captive portal or proxy answered; check the base URL and the network)", err.Error())
					assert.Equal(t, page, string(apiErr.Body))
					assert.Equal(t, 1, srv.n("POST"))
				})
			}
		}
	}
}

// gzipped compresses s.
func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// TestGzipWithCompressionDisabled: a caller's transport with compression
// disabled still gets a gzip-encoded reply decoded; the SDK does not ask for
// gzip itself.
func TestGzipWithCompressionDisabled(t *testing.T) {
	for _, p := range secProviders {
		for _, disabled := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/disabled=%v", p.name, disabled), func(t *testing.T) {
				t.Parallel()
				var acceptEncoding atomic.Value
				body := gzipped(t, p.reply)
				srv := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
					acceptEncoding.Store(r.Header.Get("Accept-Encoding"))
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Encoding", "gzip")
					_, _ = w.Write(body)
				})
				tr := &http.Transport{DisableCompression: disabled}
				defer tr.CloseIdleConnections()
				bot := newBot(t, p, srv.URL, chatbot.WithHTTPClient(&http.Client{Transport: tr}))
				reply, err := bot.Chat(t.Context(), req)
				require.NoError(t, err)
				assert.Equal(t, "hello", reply.Text)
				if disabled {
					assert.Equal(t, "", acceptEncoding.Load())
				} else {
					assert.Equal(t, "gzip", acceptEncoding.Load())
				}
			})
		}
	}
	t.Run("userdesk text stream", func(t *testing.T) {
		t.Parallel()
		text := strings.Repeat("Héllo wörld ☃ ", 1000)
		body := gzipped(t, text)
		srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(body)
		})
		tr := &http.Transport{DisableCompression: true}
		defer tr.CloseIdleConnections()
		bot := newBot(t, secProviders[1], srv.URL, chatbot.WithHTTPClient(&http.Client{Transport: tr}))
		reply, err := chatbot.Collect(bot.Stream(t.Context(), req))
		require.NoError(t, err)
		assert.Equal(t, text, reply.Text)
	})
}

// idlePool is a caller's client holding one idle connection to an unrelated
// server, and what that server saw of its connections.
type idlePool struct {
	hc       *http.Client
	url      string
	newConns atomic.Int64
}

func newIdlePool(t *testing.T) *idlePool {
	p := &idlePool{}
	unrelated := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	unrelated.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.newConns.Add(1)
		}
	}
	unrelated.Start()
	t.Cleanup(unrelated.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	p.hc = &http.Client{Transport: tr}
	p.url = unrelated.URL
	require.False(t, p.get(t), "the first request cannot reuse a connection")
	return p
}

// get fetches from the unrelated server and reports whether the connection
// was reused from the pool.
func (p *idlePool) get(t *testing.T) bool {
	var reused bool
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	})
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	require.NoError(t, err)
	resp, err := p.hc.Do(r)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return reused
}

// TestCallersIdleConnectionsSurvive: a cancelled chat and a chat that fails
// to connect do not close the idle connections the caller's client holds to
// other hosts.
func TestCallersIdleConnectionsSurvive(t *testing.T) {
	for _, p := range secProviders {
		for _, mode := range modes {
			t.Run(p.name+"/"+mode+"/cancelled", func(t *testing.T) {
				t.Parallel()
				pool := newIdlePool(t)
				started := make(chan struct{})
				srv := newCounter(t, false, func(_ http.ResponseWriter, r *http.Request) {
					close(started)
					<-r.Context().Done()
				})
				bot := newBot(t, p, srv.URL, chatbot.WithHTTPClient(pool.hc))
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() {
					_, err := send(ctx, bot, mode)
					done <- err
				}()
				<-started
				cancel()
				require.ErrorIs(t, <-done, context.Canceled)
				assert.True(t, pool.get(t), "the caller's idle connection was closed")
				assert.Equal(t, int64(1), pool.newConns.Load())
			})
			t.Run(p.name+"/"+mode+"/dial error", func(t *testing.T) {
				t.Parallel()
				pool := newIdlePool(t)
				bot := newBot(t, p, closedURL(t), chatbot.WithHTTPClient(pool.hc), chatbot.WithMaxRetries(0))
				_, err := send(t.Context(), bot, mode)
				var opErr *net.OpError
				require.ErrorAs(t, err, &opErr)
				requireNoSecret(t, err)
				assert.True(t, pool.get(t), "the caller's idle connection was closed")
				assert.Equal(t, int64(1), pool.newConns.Load())
			})
		}
	}
}

// TestCollectBoundsMemory: collecting a 64 MiB stream holds at most the 8 MiB
// bound (plus a margin), stops at the bound and closes the connection, which
// the server sees.
func TestCollectBoundsMemory(t *testing.T) {
	// Not parallel: it measures the heap.
	const total = 64 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	type outcome struct {
		written      int
		disconnected bool
	}
	served := make(chan outcome, 1)
	srv := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var o outcome
		for o.written < total {
			n, err := w.Write(chunk)
			o.written += n
			if err != nil {
				break
			}
			http.NewResponseController(w).Flush()
		}
		select {
		case <-r.Context().Done():
			o.disconnected = true
		default:
		}
		served <- o
	})
	bot := newBot(t, secProviders[1], srv.URL) // userdesk streams raw text

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	reply, err := chatbot.Collect(bot.Stream(t.Context(), req))
	runtime.GC()
	runtime.ReadMemStats(&after)

	require.ErrorIs(t, err, chatbot.ErrReplyTooLarge)
	require.Len(t, reply.Text, chatbot.DefaultMaxCollectBytes)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth collecting a 64 MiB stream: %d KiB (reply %d KiB)", growth>>10, len(reply.Text)>>10)
	assert.Less(t, growth, int64(chatbot.DefaultMaxCollectBytes+4<<20), "heap grew past the bound plus 4 MiB")

	o := <-served
	assert.True(t, o.disconnected, "the server did not see the client leave")
	assert.Less(t, o.written, total, "the server wrote the whole stream")
	runtime.KeepAlive(reply)
}

// TestNextPageLinkQuotingTheKey: a Stammer next-page link that cannot be
// followed is reported without the key it carries.
func TestNextPageLinkQuotingTheKey(t *testing.T) {
	links := map[string]string{
		"unparseable":  "http://%zz/?token=" + secKey,
		"outside base": "/elsewhere/?token=" + url.QueryEscape(secKey),
	}
	for name, link := range links {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"results":[],"next":%q}`, link)
			})
			st, err := stammer.NewClient(secKey, chatbotID, chatbot.WithBaseURL(srv.URL+"/api/"))
			require.NoError(t, err)
			var last error
			for _, err := range st.Conversations(t.Context(), stammer.ConversationsOptions{}) {
				last = err
			}
			require.Error(t, last)
			assert.Contains(t, last.Error(), "stammer: conversations: next page link")
			assert.Contains(t, last.Error(), "[REDACTED]")
			requireNoSecret(t, last)
		})
	}
}
