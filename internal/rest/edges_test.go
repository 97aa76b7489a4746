package rest_test

// Tests of issue 25's promises at the last edges, through the public API of
// every provider against loopback servers: redaction across the error-body
// cap and in every encoded form, the rate-limit pre-check, Retry-After, the
// idle timeout on a Chat's body, undecoded Content-Encodings and HTML pages
// without a Content-Type.

import (
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
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
				t.Run(path.name+"/"+mode, func(t *testing.T) {
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
