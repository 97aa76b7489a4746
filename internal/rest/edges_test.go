package rest_test

// Tests of issue 25's promises at the last edges, through the public API of
// every provider against loopback servers: redaction across the error-body
// cap and in every encoded form, the rate-limit pre-check, Retry-After, the
// idle timeout on a Chat's body, undecoded Content-Encodings and HTML pages
// without a Content-Type.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/clocktest"
	"github.com/chatbot-go/chatbot/internal/config"
)

// errorBodyCap is what an Error keeps of a body.
const errorBodyCap = 64 << 10

// TestKeyStraddlingTheErrorBodyCapIsRemovedWhole: a key echoed across the
// 64 KiB cut of Error.Body leaves no part of itself there, on the plain error
// path (a 401), the HTML page path (a 200 page) and the redirect path (a 302
// to a chat POST) alike.
func TestKeyStraddlingTheErrorBodyCapIsRemovedWhole(t *testing.T) {
	paths := []struct {
		name   string
		status int
		header map[string]string
	}{
		{"plain error", http.StatusUnauthorized, map[string]string{"Content-Type": "application/json"}},
		{"HTML page", http.StatusOK, map[string]string{"Content-Type": "text/html"}},
		{"redirect", http.StatusFound, map[string]string{"Location": "/elsewhere"}},
	}
	for _, path := range paths {
		for _, mode := range modes {
			// The key starts 40 bytes, 1 byte and len(key)-1 bytes before
			// the cut, and exactly at it.
			for _, before := range []int{40, 1, len(secKey) - 1, 0} {
				t.Run(path.name+"/"+mode+"/"+strconv.Itoa(before)+" bytes before the cut", func(t *testing.T) {
					t.Parallel()
					body := "<html>" + strings.Repeat("x", errorBodyCap-before-len("<html>")) + secKey + strings.Repeat("y", 100)
					srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
						for k, v := range path.header {
							w.Header().Set(k, v)
						}
						w.WriteHeader(path.status)
						_, _ = io.WriteString(w, body)
					})
					_, err := send(t.Context(), newBot(t, secProviders[0], srv.URL), mode)
					apiErr := apiError(t, err)
					assert.Equal(t, path.status, apiErr.StatusCode)
					assert.LessOrEqual(t, len(apiErr.Body), errorBodyCap)
					assert.True(t, strings.HasPrefix(string(apiErr.Body), "<html>xxx"), "the body is kept")
					got := string(apiErr.Body)
					for n := 4; n <= len(secKey); n++ {
						require.False(t, strings.HasSuffix(got, secKey[:n]), "the body ends with the key's first %d bytes", n)
					}
					if before > 0 {
						require.Len(t, got, errorBodyCap)
						assert.Equal(t, "[REDACTED]yyy"[:min(before, 13)], got[errorBodyCap-before:][:min(before, 13)], "the key is replaced, not cut")
					}
					requireNoSecret(t, err)
				})
			}
		}
	}
}

// encodedKeyForms returns, by name, the forms of the key and of
// "Bearer <key>" that HTML, base64 and hex encoders write, and for each the
// part of it that must not survive redaction: for base64 at an alignment
// where the key does not start the text, the middle half of the encoding,
// which only the key determines.
func encodedKeyForms() map[string][2]string {
	forms := map[string][2]string{}
	htmlForm := html.EscapeString("sk-live/SECRET&<\"'>SECRET0123456789") // &amp; &lt; &#34; &#39; &gt;
	forms["HTML escaped by html.EscapeString"] = [2]string{htmlForm, htmlForm}
	named := "sk-live&sol;SECRET&amp;&lt;&quot;&apos;&gt;SECRET0123456789"
	forms["HTML named references"] = [2]string{named, named}
	for _, payload := range []string{secKeyHTML, "Bearer " + secKeyHTML, "a" + secKeyHTML, "ab" + secKeyHTML} {
		for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding, "raw std": base64.RawStdEncoding} {
			s := enc.EncodeToString([]byte(payload))
			forms["base64 "+name+" of "+payload[:min(len(payload), 9)]] = [2]string{s, s[len(s)/4 : 3*len(s)/4]}
		}
		h := hex.EncodeToString([]byte(payload))
		forms["hex of "+payload[:min(len(payload), 9)]] = [2]string{h, hex.EncodeToString([]byte(secKeyHTML))}
		forms["HEX of "+payload[:min(len(payload), 9)]] = [2]string{strings.ToUpper(h), strings.ToUpper(hex.EncodeToString([]byte(secKeyHTML)))}
	}
	return forms
}

// secKeyHTML is a key with the characters HTML encoders escape.
const secKeyHTML = "sk-live/SECRET&<\"'>SECRET0123456789"

// TestEchoedKeyIsRedactedInHTMLBase64AndHexForms: an error body echoing the
// key as HTML named references, or base64 (both alphabets, every alignment)
// or hex of the key or of "Bearer <key>", keeps none of it.
func TestEchoedKeyIsRedactedInHTMLBase64AndHexForms(t *testing.T) {
	for name, form := range encodedKeyForms() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":"bad key `+form[0]+`"}`)
			})
			bot, err := secProviders[0].newClient(secKeyHTML, chatbot.WithBaseURL(srv.URL+"/"))
			require.NoError(t, err)
			_, err = bot.Chat(t.Context(), req)
			apiErr := apiError(t, err)
			for _, text := range []string{string(apiErr.Body), apiErr.Message, err.Error()} {
				assert.Contains(t, text, "[REDACTED]")
				assert.NotContains(t, text, form[1])
				assert.NotContains(t, text, "SECRET")
			}
		})
	}
}

// TestErrorTextIsOneLineWhateverTheProviderSent: a provider message with line
// breaks and terminal escapes (a JSON error, an SSE error event with two data
// lines) gives a one-line Error(), while Error.Message keeps them verbatim.
func TestErrorTextIsOneLineWhateverTheProviderSent(t *testing.T) {
	for _, p := range secProviders {
		for _, mode := range modes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = io.WriteString(w, `{"error":"bad\nsitegpt: 200 OK forged\r\u001b[2Kline"}`)
				})
				_, err := send(t.Context(), newBot(t, p, srv.URL), mode)
				apiErr := apiError(t, err)
				assert.Equal(t, "bad\nsitegpt: 200 OK forged\r\x1b[2Kline", apiErr.Message)
				assert.Equal(t, p.name+`: 400 INVALID_REQUEST: bad\nsitegpt: 200 OK forged\r\x1b[2Kline`, err.Error())
			})
		}
	}
	t.Run("SSE error event with two data lines", func(t *testing.T) {
		t.Parallel()
		srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: error\ndata: first line\ndata: workspace: forged line\n\n")
		})
		_, err := send(t.Context(), newBot(t, secProviders[0], srv.URL), "stream")
		apiErr := apiError(t, err)
		assert.Equal(t, "first line\nworkspace: forged line", apiErr.Message)
		assert.NotContains(t, err.Error(), "\n")
		assert.Contains(t, err.Error(), `first line\nworkspace: forged line`)
	})
}

// TestLoginPageWithoutContentTypeIsNeverStreamText: a 200 HTML page sent
// without a Content-Type, even in pieces, is a typed error from every
// provider's Stream (and Chat), never the reply's text; a text/plain reply
// that begins with markup is still text.
func TestLoginPageWithoutContentTypeIsNeverStreamText(t *testing.T) {
	pieces := []string{"\n  <", "!DOCTYPE html>\n<html><head><title>Sign in</title>", "</head><body>Log in</body></html>"}
	for _, p := range secProviders {
		for _, mode := range modes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
					w.Header()["Content-Type"] = nil // none, and not sniffed by net/http
					for _, piece := range pieces {
						_, _ = io.WriteString(w, piece)
						w.(http.Flusher).Flush()
					}
				})
				reply, err := send(t.Context(), newBot(t, p, srv.URL), mode)
				if reply != nil {
					assert.Empty(t, reply.Text)
				}
				apiErr := apiError(t, err)
				assert.Equal(t, http.StatusOK, apiErr.StatusCode)
				assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
				assert.Contains(t, apiErr.Message, "HTML page")
				assert.Equal(t, strings.Join(pieces, ""), string(apiErr.Body), "nothing received is lost")
				assert.Equal(t, 1, srv.n("POST"))
			})
		}
	}
	t.Run("text/plain reply beginning with markup", func(t *testing.T) {
		t.Parallel()
		srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "<b>Hello</b>, how can I help?")
		})
		reply, err := send(t.Context(), newBot(t, secProviders[1], srv.URL), "stream")
		require.NoError(t, err)
		assert.Equal(t, "<b>Hello</b>, how can I help?", reply.Text)
	})
}

// TestUndecodedContentEncodingIsRefused: a 2xx body in a Content-Encoding
// the SDK does not decode (deflate, br, zstd) is a typed error, never
// delivered as the reply's text; a gzip body is still decoded.
func TestUndecodedContentEncodingIsRefused(t *testing.T) {
	for _, enc := range []string{"deflate", "br", "zstd", "gzip, br"} {
		for _, p := range secProviders {
			for _, mode := range modes {
				t.Run(enc+"/"+p.name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
						w.Header().Set("Content-Type", "text/plain")
						w.Header().Set("Content-Encoding", enc)
						_, _ = w.Write([]byte{0x8b, 0x0b, 0x80, 'h', 'e', 'l', 'l', 'o', 0x03})
					})
					reply, err := send(t.Context(), newBot(t, p, srv.URL), mode)
					if reply != nil {
						assert.Empty(t, reply.Text)
					}
					apiErr := apiError(t, err)
					assert.Equal(t, http.StatusOK, apiErr.StatusCode)
					assert.Equal(t, chatbot.CodeUnknown, apiErr.Code, "never retried: the provider processed the message")
					assert.Contains(t, apiErr.Message, strconv.Quote(enc))
					assert.Equal(t, 1, srv.n("POST"))
				})
			}
		}
	}
}

// rateHeaders sets a used-up window whose reset is at reset (unix seconds).
func rateHeaders(h http.Header, reset string) {
	h.Set("X-RateLimit-Limit", "1000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", reset)
}

// TestPrecheckObservesOnlyAPIReplies: X-RateLimit-* headers on a redirect or
// on a 2xx HTML page (with or without a Content-Type) or on an HTML error
// page come from whatever answered instead of the API: the next call is
// sent. The same headers on an API reply hold the next call back.
func TestPrecheckObservesOnlyAPIReplies(t *testing.T) {
	const page = "<!DOCTYPE html><html><body>Sign in</body></html>"
	first := map[string]func(w http.ResponseWriter){
		"302 redirect": func(w http.ResponseWriter) {
			w.Header().Set("Location", "/login")
			w.WriteHeader(http.StatusFound)
		},
		"200 HTML page": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page)
		},
		"200 HTML page without a Content-Type": func(w http.ResponseWriter) {
			w.Header()["Content-Type"] = nil
			_, _ = io.WriteString(w, page)
		},
		"502 HTML page from a proxy": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, page)
		},
	}
	for name, answer := range first {
		for _, mode := range modes {
			t.Run(name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				calls := 0
				srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
					mu.Lock()
					calls++
					n := calls
					mu.Unlock()
					if n == 1 {
						rateHeaders(w.Header(), strconv.FormatInt(time.Now().Add(30*time.Minute).Unix(), 10))
						answer(w)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, secProviders[0].reply)
				})
				bot := newBot(t, secProviders[0], srv.URL, chatbot.WithMaxRetries(0))
				_, err := send(t.Context(), bot, mode)
				require.Error(t, err)
				reply, err := send(t.Context(), bot, mode)
				require.NoError(t, err, "the first answer's headers were not believed")
				assert.Equal(t, "hello", reply.Text)
				assert.Equal(t, 2, srv.n("POST"))
			})
		}
	}
	t.Run("API reply", func(t *testing.T) {
		t.Parallel()
		srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
			rateHeaders(w.Header(), strconv.FormatInt(time.Now().Add(30*time.Minute).Unix(), 10))
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, secProviders[0].reply)
		})
		bot := newBot(t, secProviders[0], srv.URL)
		_, err := send(t.Context(), bot, "chat")
		require.NoError(t, err)
		_, err = send(t.Context(), bot, "stream")
		require.ErrorIs(t, err, chatbot.ErrRateLimited)
		assert.Equal(t, "CLIENT_RATE_LIMITED", apiError(t, err).ProviderCode)
		assert.Equal(t, 1, srv.n("POST"))
	})
}

// TestPrecheckDoesNotBelieveAResetBeyondTheProvidersWindow: a reset further
// ahead than the provider's window (workspace: an hour; SiteGPT: a minute)
// plus a minute of skew is ignored, and logged, so that the next call is
// sent; a reset within it still holds the next call back.
func TestPrecheckDoesNotBelieveAResetBeyondTheProvidersWindow(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		provider secProvider
		reset    string
		believed bool
	}{
		{"ten years ahead", secProviders[0], strconv.FormatInt(start.AddDate(10, 0, 0).Unix(), 10), false},
		{"year 2100", secProviders[0], "4102444800", false},
		{"1e300", secProviders[0], "1e300", false},
		{"two hours ahead", secProviders[0], strconv.FormatInt(start.Add(2*time.Hour).Unix(), 10), false},
		{"unix milliseconds a day ahead", secProviders[0], strconv.FormatInt(start.Add(24*time.Hour).UnixMilli(), 10), false},
		{"an hour ahead", secProviders[0], strconv.FormatInt(start.Add(time.Hour).Unix(), 10), true},
		{"SiteGPT: ten minutes ahead", secProviders[3], strconv.FormatInt(start.Add(10*time.Minute).Unix(), 10), false},
		{"SiteGPT: a minute ahead", secProviders[3], strconv.FormatInt(start.Add(time.Minute).Unix(), 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				rateHeaders(w.Header(), tt.reset)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.provider.reply)
			})
			var logs bytes.Buffer
			clk := clocktest.New(start)
			bot := newBot(t, tt.provider, srv.URL, config.WithClock(clk), chatbot.WithStreamIdleTimeout(0),
				chatbot.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			_, err := bot.Chat(t.Context(), req)
			require.NoError(t, err)
			_, err = bot.Chat(t.Context(), req)
			if tt.believed {
				require.ErrorIs(t, err, chatbot.ErrRateLimited)
				assert.Equal(t, 1, srv.n("POST"), "held back until the reset")
				assert.NotContains(t, logs.String(), "implausible")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, srv.n("POST"), "sent: the reset was not believed")
			assert.Contains(t, logs.String(), "level=WARN msg=\"chatbot: implausible X-RateLimit-Reset ignored\"")
		})
	}
}

// TestRetryAfterIsDigitsOrAnHTTPDate: Retry-After is read only in the forms
// RFC 9110 allows, digits or an HTTP-date; "Inf" and the other forms
// strconv.ParseFloat accepts give no wait (not an infinite one). The body's
// retryAfter is a finite JSON number.
func TestRetryAfterIsDigitsOrAnHTTPDate(t *testing.T) {
	start := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		body   string
		want   time.Duration
	}{
		{"Inf", "Inf", `{}`, 0},
		{"+Inf", "+Inf", `{}`, 0},
		{"Infinity", "Infinity", `{}`, 0},
		{"NaN", "NaN", `{}`, 0},
		{"exponent", "1e3", `{}`, 0},
		{"fraction", "1.5", `{}`, 0},
		{"hex float", "0x1p4", `{}`, 0},
		{"underscores", "1_0", `{}`, 0},
		{"sign", "+7", `{}`, 0},
		{"digits", "7", `{}`, 7 * time.Second},
		{"HTTP-date", start.Add(90 * time.Second).Format(http.TimeFormat), `{}`, 90 * time.Second},
		{"body Infinity", "", `{"error":"slow down","retryAfter":"Infinity"}`, 0},
		{"body NaN", "", `{"error":"slow down","retryAfter":"NaN"}`, 0},
		{"body number", "", `{"error":"slow down","retryAfter":2.5}`, 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, tt.body)
			})
			clk := clocktest.New(start)
			bot := newBot(t, secProviders[0], srv.URL, chatbot.WithMaxRetries(0), config.WithClock(clk))
			_, err := bot.Chat(t.Context(), req)
			require.ErrorIs(t, err, chatbot.ErrRateLimited)
			assert.Equal(t, tt.want, apiError(t, err).RetryAfter)
		})
	}
}

// TestChatStallAfterTheHeadersEndsWithIdleTimeout: a provider that sends a
// Chat's headers and then nothing ends the call with an error wrapping
// chatbot.ErrIdleTimeout after the idle timeout, as a stream would, instead
// of hanging when the caller set no deadline. Time is the fake clock's.
func TestChatStallAfterTheHeadersEndsWithIdleTimeout(t *testing.T) {
	for _, p := range secProviders {
		for _, partial := range []string{"", `{"success":true,"da`} {
			t.Run(p.name+"/"+strconv.Itoa(len(partial)), func(t *testing.T) {
				t.Parallel()
				release := make(chan struct{})
				srv := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, partial)
					w.(http.Flusher).Flush()
					select {
					case <-release:
					case <-r.Context().Done():
					}
				})
				defer close(release)
				clk := clocktest.New(time.Unix(1_800_000_000, 0))
				const idle = 30 * time.Second
				bot := newBot(t, p, srv.URL, config.WithClock(clk), chatbot.WithStreamIdleTimeout(idle))
				done := make(chan error, 1)
				go func() {
					_, err := bot.Chat(t.Context(), req)
					done <- err
				}()
				// The headers' wait (1), the first read of the body (2), and
				// for a partial body the read after it (3): the call is now
				// waiting for the rest of the body.
				clk.WaitArmed(t, 2+min(len(partial), 1))
				clk.Advance(idle)
				select {
				case err := <-done:
					require.ErrorIs(t, err, chatbot.ErrIdleTimeout)
					assert.Contains(t, err.Error(), "nothing received for 30s")
				case <-time.After(30 * time.Second):
					t.Fatal("Chat did not end after the idle timeout")
				}
				assert.Equal(t, 1, srv.n("POST"))
			})
		}
	}
}

// TestAnAbsentReplyIsNeverASuccessfulEmptyReply: a 2xx answer without the
// field that carries the reply is an error from every provider's Chat (a
// *chatbot.Error with CodeUnknown and the body, where the provider's own
// error type allows) and Stream, never an empty reply. A present, empty
// reply field is an empty reply.
func TestAnAbsentReplyIsNeverASuccessfulEmptyReply(t *testing.T) {
	absent := map[string][]string{
		"workspace": {`{"success":true}`, `null`, `{"success":true,"data":{"conversationId":"c9","messageId":"m1"}}`, `{"success":true,"data":{"response":null}}`},
		"userdesk":  {`{"success":true,"conversationId":"c1"}`, `{"success":true}`, `null`},
		"stammer":   {`{"message":"Chatbot successfully answered.","data":{"chat_id":7}}`},
		"sitegpt":   {`{"success":true,"data":{"threadId":"c1"}}`},
	}
	for _, p := range secProviders {
		for i, body := range absent[p.name] {
			for _, mode := range modes {
				t.Run(p.name+"/"+strconv.Itoa(i)+"/"+mode, func(t *testing.T) {
					t.Parallel()
					srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
						w.Header().Set("Content-Type", "application/json")
						_, _ = io.WriteString(w, body)
					})
					reply, err := send(t.Context(), newBot(t, p, srv.URL), mode)
					require.Error(t, err, body)
					if reply != nil {
						assert.Empty(t, reply.Text)
					}
					if mode == "chat" && p.name != "sitegpt" {
						apiErr := apiError(t, err)
						assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
						assert.Equal(t, http.StatusOK, apiErr.StatusCode)
						assert.Contains(t, apiErr.Message, "the response has no ")
						assert.Equal(t, body, string(apiErr.Body))
					}
					assert.Equal(t, 1, srv.n("POST"))
				})
			}
		}
	}
	empty := map[string]string{
		"workspace": `{"success":true,"data":{"response":"","conversationId":"c1"}}`,
		"userdesk":  `{"success":true,"conversationId":"c1","response":""}`,
		"stammer":   `{"message":"ok","data":{"answer":"","chat_id":7}}`,
	}
	for name, body := range empty {
		t.Run("present and empty/"+name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			})
			i := slices.IndexFunc(secProviders, func(p secProvider) bool { return p.name == name })
			reply, err := newBot(t, secProviders[i], srv.URL).Chat(t.Context(), req)
			require.NoError(t, err)
			assert.Empty(t, reply.Text)
		})
	}
}

// TestUserdeskStreamThatCarriedNothingIsNotAReply: a Userdesk stream whose
// 2xx response carried no text and no reply (an empty 200, a 204, a JSON
// answer without "response") ends with an error wrapping
// io.ErrUnexpectedEOF, never with Done and no error.
func TestUserdeskStreamThatCarriedNothingIsNotAReply(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"empty 200": func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain") },
		"204":       func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) },
		"JSON without response": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"success":true,"conversationId":"c1"}`)
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newCounter(t, false, func(w http.ResponseWriter, _ *http.Request) { answer(w) })
			var chunks []chatbot.Chunk
			var last error
			for ch, err := range newBot(t, secProviders[1], srv.URL).Stream(t.Context(), req) {
				chunks = append(chunks, ch)
				last = err
			}
			require.ErrorIs(t, last, io.ErrUnexpectedEOF)
			assert.Contains(t, last.Error(), "userdesk: stream: the response carried no reply")
			for _, ch := range chunks {
				assert.False(t, ch.Done, "no Done chunk")
				assert.Empty(t, ch.Text)
			}
			assert.Equal(t, 1, srv.n("POST"))
		})
	}
}
