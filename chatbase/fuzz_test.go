package chatbase_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
)

// FuzzStream feeds arbitrary bodies, seeded from testdata/stream, to Stream:
// nothing panics, and writing the body in two pieces cut anywhere decodes to
// the same reply and the same error as writing it whole.
func FuzzStream(f *testing.F) {
	files, err := filepath.Glob("testdata/stream/*.sse")
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b, uint16(len(b)/2))
	}
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		whole, wholeErr := chatbot.Collect(sseClient(t, body, 0).Stream(t.Context(), chatbot.Request{Message: "hi"}))
		at := int(cut) % (len(body) + 1)
		split, splitErr := chatbot.Collect(sseSplitClient(t, body, at).Stream(t.Context(), chatbot.Request{Message: "hi"}))
		assert.Equal(t, whole, split)
		assert.Equal(t, wholeErr == nil, splitErr == nil, "whole: %v, split: %v", wholeErr, splitErr)
		if wholeErr != nil && splitErr != nil {
			assert.Equal(t, wholeErr.Error(), splitErr.Error())
		}
	})
}

// sseSplitClient is sseClient writing body in two flushed pieces, cut at at.
func sseSplitClient(t *testing.T, body []byte, at int) *chatbase.Client {
	t.Helper()
	return sseHandlerClient(t, func(w http.ResponseWriter, _ *http.Request) {
		f, _ := w.(http.Flusher)
		for _, p := range [][]byte{body[:at], body[at:]} {
			_, _ = w.Write(p)
			if f != nil {
				f.Flush()
			}
		}
	})
}

// FuzzWebhook feeds arbitrary bodies and signatures to ParseWebhook: it
// never panics, accepts exactly the deliveries an independent statement of
// the rule calls authentic, and decodes every authentic JSON object.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(leadBody), chatbase.SignWebhook(testSecret, []byte(leadBody)))
	f.Add([]byte(leadBody), "sha1="+chatbase.SignWebhook(testSecret, []byte(leadBody)))
	f.Add([]byte(`{"eventType":"x"}`), strings.Repeat("0", 40))
	f.Add([]byte(`[]`), chatbase.SignWebhook(testSecret, []byte(`[]`)))
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(chatbase.WebhookSignatureHeader, sig)
		ev, err := chatbase.ParseWebhook(testSecret, h, body)
		if !authentic(sig, body) {
			require.ErrorIs(t, err, chatbase.ErrWebhookSignature)
			return
		}
		if err != nil {
			require.ErrorIs(t, err, chatbase.ErrWebhookPayload)
			return
		}
		assert.Equal(t, string(body), string(ev.Raw))
	})
}

// authentic is an independent statement of the signature rule: one value,
// optionally "sha1=", then 40 hex digits of the HMAC-SHA1 of the body.
func authentic(sig string, body []byte) bool {
	sig = strings.TrimSpace(sig)
	if len(sig) > 5 && strings.EqualFold(sig[:5], "sha1=") {
		sig = sig[5:]
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		return false
	}
	m := hmac.New(sha1.New, []byte(testSecret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
