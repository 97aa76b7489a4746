package workspace_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/workspace"
)

// authentic is an independent statement of the signature rule: one
// "sha256=<64 hex>" value that is the HMAC of the body (bodyOnly), or of the
// body followed by the one timestamp header's 1 to 12 digits, and a body
// that does not end with a digit.
func authentic(secret, sig, ts string, body []byte, bodyOnly bool) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok || len(hexSig) != 64 {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	if n := len(body); n > 0 && strings.ContainsRune("0123456789", rune(body[n-1])) {
		return false
	}
	mac := func(extra string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		m.Write([]byte(extra))
		return m.Sum(nil)
	}
	if bodyOnly {
		return hmac.Equal(got, mac(""))
	}
	ts = strings.TrimSpace(ts)
	if len(ts) == 0 || len(ts) > 12 || strings.Trim(ts, "0123456789") != "" {
		return false
	}
	return hmac.Equal(got, mac(ts))
}

// FuzzWebhook feeds arbitrary bodies, signature and timestamp headers to
// ParseWebhook and to the handler, seeded from testdata/webhooks. Nothing
// may panic; only an authentic delivery may reach the application, and
// then with its exact bytes; the handler and ParseWebhook must agree. With
// sign set the body is signed correctly, so the decoder is exercised on
// every body the fuzzer invents.
func FuzzWebhook(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		body, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(body, "", "", true)
		f.Add(body, "", "1696531200", true)
		f.Add(body, workspace.SignWebhook(testSecret, body, ""), "", false)
		f.Add(body, workspace.SignWebhook(testSecret, body, "1696531200"), "1696531200", false)
		f.Add(body, "sha256="+strings.Repeat("0", 64), "", false)
	}
	f.Add([]byte(`{"event":5}`), "", "", true)
	f.Add([]byte(`[]`), "", "", true)
	f.Add([]byte(`{"event":"LEAD_X","data":{"lead":[]}}`), "", "", true)

	var got *workspace.WebhookEvent
	schemes := [][]workspace.WebhookOption{
		{workspace.WithWebhookTolerance(-1)},
		{workspace.WithWebhookTolerance(-1), workspace.WithWebhookScheme(workspace.WebhookSignedBody)},
	}
	var handlers []http.Handler
	for _, opts := range schemes {
		h, err := workspace.NewWebhookHandler(testSecret, func(_ context.Context, ev *workspace.WebhookEvent) error {
			got = ev
			return nil
		}, opts...)
		require.NoError(f, err)
		handlers = append(handlers, h)
	}

	f.Fuzz(func(t *testing.T, body []byte, sig, ts string, sign bool) {
		if sign {
			sig = workspace.SignWebhook(testSecret, body, strings.TrimSpace(ts))
		}
		header := http.Header{}
		if sig != "" {
			header[workspace.WebhookSignatureHeader] = []string{sig}
		}
		if ts != "" {
			header[workspace.WebhookTimestampHeader] = []string{ts}
		}
		for i, h := range handlers {
			ok := authentic(testSecret, sig, ts, body, i == 1)
			ev, perr := workspace.ParseWebhook(testSecret, header, body, schemes[i]...)
			if !ok {
				require.ErrorIs(t, perr, workspace.ErrWebhookSignature)
				require.Nil(t, ev)
			}
			if perr == nil {
				require.Equal(t, body, []byte(ev.Raw))
			}

			got = nil
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header = header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			switch {
			case !ok:
				require.Equal(t, http.StatusUnauthorized, w.Code)
				require.Nil(t, got, "an unauthenticated body reached the application")
			case perr == nil:
				require.Equal(t, http.StatusOK, w.Code)
				require.NotNil(t, got)
				require.Equal(t, body, []byte(got.Raw))
				require.Equal(t, ev.Type, got.Type)
			default:
				require.ErrorIs(t, perr, workspace.ErrWebhookPayload)
				require.Equal(t, http.StatusBadRequest, w.Code)
				require.Nil(t, got)
			}
			require.NotContains(t, w.Body.String(), testSecret)
		}
	})
}
