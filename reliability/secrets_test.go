package reliability_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

// secret is a key no output may ever contain.
const secret = "sk-workspace_SECRETSECRETSECRETSECRETSECRETSECRETSECRET0123"

// syncBuffer is a log sink safe for the handler's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// echo answers with status and body, after replacing $AUTH by the
// Authorization header the client sent and $KEY by the key in it; the
// header X-Echo carries the Authorization header back as well.
func echo(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		_, key, _ := strings.Cut(auth, " ")
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Echo", auth)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", key="`+key+`"`)
		w.WriteHeader(status)
		body := strings.ReplaceAll(strings.ReplaceAll(body, "$AUTH", auth), "$KEY", key)
		_, _ = w.Write([]byte(body))
	}
}

// echoedBody says the key back in every field any provider's error decoder
// reads.
const echoedBody = `{"success":false,"error":"Invalid API key: $KEY","code":"$KEY","message":"Header was $AUTH",` +
	`"detail":"$KEY","errors":{"key":["$KEY is not valid"]},"details":[{"path":["authorization"],"message":"$AUTH"}]}`

func TestSecretsNeverPrinted(t *testing.T) {
	paths := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"401 echoing the key", echo(http.StatusUnauthorized, "application/json", echoedBody)},
		{"400 echoing the key", echo(http.StatusBadRequest, "application/json", echoedBody)},
		{"403 echoing the key", echo(http.StatusForbidden, "application/json", echoedBody)},
		{"404 echoing the key", echo(http.StatusNotFound, "application/json", echoedBody)},
		{"429 echoing the key", echo(http.StatusTooManyRequests, "application/json", echoedBody)},
		{"500 echoing the key", echo(http.StatusInternalServerError, "application/json", echoedBody)},
		{"503 echoing the key", echo(http.StatusServiceUnavailable, "application/json", echoedBody)},
		{"nested error echoing the key", echo(http.StatusUnauthorized, "application/json",
			`{"success":false,"message":"$AUTH","error":{"code":"$KEY","message":"$KEY","details":["$AUTH"]}}`)},
		{"HTML page echoing the key", echo(http.StatusBadGateway, "text/html", `<html><body>bad key $KEY ($AUTH)</body></html>`)},
		{"200 not JSON echoing the key", echo(http.StatusOK, "application/json", `$KEY`)},
		{"200 success false echoing the key", echo(http.StatusOK, "application/json", echoedBody)},
		{"200 wrong types echoing the key", echo(http.StatusOK, "application/json",
			`{"success":true,"conversationId":["$KEY"],"response":{"k":"$KEY"},"data":{"response":["$KEY"],"answer":["$KEY"],"message":"$KEY"}}`)},
		{"SSE error event echoing the key", echo(http.StatusOK, "text/event-stream",
			"data: {\"type\":\"error\",\"error\":\"bad key $KEY\",\"code\":\"$KEY\",\"message\":\"$AUTH\"}\n\n")},
	}
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var outputs []string
			record := func(what string, err error) {
				outputs = append(outputs, what+": "+err.Error(), fmt.Sprintf("%s %%+v: %+v", what, err), fmt.Sprintf("%s %%v: %v", what, err))
				var apiErr *chatbot.Error
				if errors.As(err, &apiErr) {
					outputs = append(outputs, fmt.Sprintf("%s fields: %+v %#v %s", what, *apiErr, *apiErr, apiErr.Body))
				}
			}
			opts := []chatbot.Option{chatbot.WithLogger(logger), chatbot.WithMaxRetries(1), chatbot.WithMaxRetryWait(10 * time.Millisecond)}
			newBot := func(base string, extra ...chatbot.Option) chatbot.Chatbot {
				bot, err := p.newClient(secret, p.id(),
					append(append([]chatbot.Option{chatbot.WithBaseURL(base)}, opts...), extra...)...)
				require.NoError(t, err)
				return bot
			}

			for _, path := range paths {
				srv := httptest.NewServer(path.h)
				bot := newBot(srv.URL)
				for _, mode := range modes(p) {
					_, _, err := call(t.Context(), bot, mode)
					require.Error(t, err, path.name)
					record(path.name+" "+mode, err)
				}
				srv.Close()
			}

			// A refused connection, a deadline, an idle timeout.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			closed := "http://" + ln.Addr().String() + "/"
			require.NoError(t, ln.Close())
			_, _, err = call(t.Context(), newBot(closed), "chat")
			require.Error(t, err)
			record("refused", err)

			stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
				<-r.Context().Done()
			}))
			defer stuck.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			for _, mode := range modes(p) {
				_, _, err = call(ctx, newBot(stuck.URL), mode)
				require.Error(t, err)
				record("deadline "+mode, err)
			}
			if p.streams {
				// The deadline bounds userdesk's conversation request, which
				// the idle timeout does not guard (an SDK bug).
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				_, _, err = call(ctx, newBot(stuck.URL, chatbot.WithStreamIdleTimeout(50*time.Millisecond)), "stream")
				require.Error(t, err)
				record("idle", err)
			}

			// A rejected client: options and ids are validated with the
			// key (Dify's client takes no id, only the key).
			if !p.noID {
				_, err = p.newClient(secret, "bad\x00id")
				require.Error(t, err)
				record("bad id", err)
			}
			_, err = p.newClient(secret+" ", p.id())
			require.Error(t, err)
			record("key with a space", err)

			require.NotEmpty(t, logs.String(), "the logger was used")
			for _, out := range append(outputs, strings.Split(logs.String(), "\n")...) {
				require.NotContains(t, out, secret)
				require.NotContains(t, out, "SECRETSECRET", "not even part of the key")
			}
			t.Logf("%d outputs and %d log bytes scanned", len(outputs), len(logs.String()))
		})
	}
}

// TestSecretInRequestIDHeader: a server that echoes the key in a
// request-id header; Error.RequestID (which Error() prints) is redacted.
func TestSecretInRequestIDHeader(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
				w.Header().Set("X-Request-Id", key)
				w.WriteHeader(http.StatusUnauthorized)
			}))
			defer srv.Close()
			bot, err := p.newClient(secret, p.id(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.Error(t, err)
			require.NotContains(t, err.Error(), secret)
		})
	}
}

// anyReply is a success body every provider's decoder accepts (Dify's
// answer, Flowise's text, Chatbase's parts, CustomGPT's status and
// session_id and openai_response among them); CustomGPT takes it for the
// conversation it creates as well as for the answer.
const anyReply = `{"success":true,"status":"success","message":"ok","conversationId":"c1","response":"hi",` +
	`"answer":"hi","conversation_id":"c1","text":"hi",` +
	`"data":{"response":"hi","answer":"hi","chat_id":1,"messageId":"m1","conversationId":"c1",` +
	`"parts":[{"type":"text","text":"hi"}],"session_id":"s1","openai_response":"hi",` +
	`"message":{"id":"1","threadId":"t1","answer":{"text":"hi"}}}}`

// chatRequests is how many requests a Chat of p makes to start a
// conversation: two where it creates the conversation first.
func chatRequests(p provider) int64 {
	if p.chatCreates {
		return 2
	}
	return 1
}

func TestTLS(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			var conns, requests atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(anyReply))
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
			srv.StartTLS()
			defer srv.Close()
			require.True(t, strings.HasPrefix(srv.URL, "https://"))

			// With the server's CA: it works.
			bot, err := p.newClient("key-0123456789", p.id(),
				chatbot.WithBaseURL(srv.URL), chatbot.WithHTTPClient(srv.Client()))
			require.NoError(t, err)
			r, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			require.NoError(t, err)
			require.Equal(t, "hi", r.Text)
			require.EqualValues(t, chatRequests(p), requests.Load())

			// Without it: a certificate error, and no second attempt.
			conns.Store(0)
			bot, err = p.newClient("key-0123456789", p.id(), chatbot.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			var unknown x509.UnknownAuthorityError
			var verify *tls.CertificateVerificationError
			require.True(t, errors.As(err, &unknown) || errors.As(err, &verify), "a certificate error, got %v", err)
			require.EqualValues(t, chatRequests(p), requests.Load(), "no request got through")
			require.EqualValues(t, 1, conns.Load(), "the failed handshake was not retried")
		})
	}
}
