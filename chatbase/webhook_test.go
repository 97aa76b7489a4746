package chatbase_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
)

const testSecret = chatbasetest.DefaultWebhookSecret

// leadBody is a delivery as a JavaScript server writes it: its key order
// and spacing are not what encoding/json would produce.
const leadBody = `{"eventType": "leads.submit", "chatbotId": "5QHA6VB-DIAbBhxwqxfdi", "payload": {"customerName": "Ada Lovelace",` +
	`"conversationId":"conv_1","customerEmail":"ada@example.com","customerPhone":"+44 20 7946 0000"}}`

func signed(body []byte) http.Header {
	h := http.Header{}
	h.Set(chatbase.WebhookSignatureHeader, chatbase.SignWebhook(testSecret, body))
	return h
}

func TestSignWebhookIsTheHexHMACSHA1OfTheBody(t *testing.T) {
	t.Parallel()
	// What the docs' sample computes with Node's crypto:
	// createHmac('sha1', secret).update(rawBody).digest('hex').
	m := hmac.New(sha1.New, []byte(testSecret))
	m.Write([]byte(leadBody))
	assert.Equal(t, hex.EncodeToString(m.Sum(nil)), chatbase.SignWebhook(testSecret, []byte(leadBody)))
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(leadBody)
	good := chatbase.SignWebhook(testSecret, body)
	for name, tc := range map[string]struct {
		secret string
		header http.Header
		body   []byte
		ok     bool
	}{
		"good":              {testSecret, signed(body), body, true},
		"upper-case hex":    {testSecret, http.Header{"X-Chatbase-Signature": {strings.ToUpper(good)}}, body, true},
		"sha1= prefix":      {testSecret, http.Header{"X-Chatbase-Signature": {"sha1=" + good}}, body, true},
		"tampered body":     {testSecret, signed(body), []byte(strings.Replace(leadBody, "Ada", "Eve", 1)), false},
		"wrong secret":      {"other-secret", signed(body), body, false},
		"no secret":         {"", signed(body), body, false},
		"missing":           {testSecret, http.Header{}, body, false},
		"two signatures":    {testSecret, http.Header{"X-Chatbase-Signature": {good, good}}, body, false},
		"not hex":           {testSecret, http.Header{"X-Chatbase-Signature": {strings.Repeat("zz", 20)}}, body, false},
		"short":             {testSecret, http.Header{"X-Chatbase-Signature": {good[:38]}}, body, false},
		"sha256 length":     {testSecret, http.Header{"X-Chatbase-Signature": {good + good[:24]}}, body, false},
		"plain SHA-1":       {testSecret, http.Header{"X-Chatbase-Signature": {sha1Hex(body)}}, body, false},
		"signature of null": {testSecret, http.Header{"X-Chatbase-Signature": {chatbase.SignWebhook(testSecret, nil)}}, body, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := chatbase.VerifyWebhook(tc.secret, tc.header, tc.body)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, chatbase.ErrWebhookSignature)
			assert.NotContains(t, err.Error(), testSecret)
			assert.NotContains(t, err.Error(), good)
		})
	}
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

func TestParseWebhookLeadsSubmit(t *testing.T) {
	t.Parallel()
	body := []byte(leadBody)
	ev, err := chatbase.ParseWebhook(testSecret, signed(body), body)
	require.NoError(t, err)
	assert.Equal(t, chatbase.EventLeadsSubmit, ev.Type)
	assert.Equal(t, "5QHA6VB-DIAbBhxwqxfdi", ev.ChatbotID)
	assert.Equal(t, &chatbase.WebhookLead{ConversationID: "conv_1", Email: "ada@example.com", Name: "Ada Lovelace", Phone: "+44 20 7946 0000"}, ev.Lead)
	assert.Equal(t, leadBody, string(ev.Raw))
	assert.Contains(t, string(ev.Payload), `"customerName": "Ada Lovelace"`)
	assert.True(t, strings.HasPrefix(ev.DedupKey(), "sha256:"))
	again, err := chatbase.ParseWebhook(testSecret, signed(body), body)
	require.NoError(t, err)
	assert.Equal(t, ev.DedupKey(), again.DedupKey(), "a repeated delivery has the same key")
}

func TestParseWebhookOtherEventsAndBadPayloads(t *testing.T) {
	t.Parallel()
	other := []byte(`{"eventType":"conversations.ended","chatbotId":"a","payload":{"x":1}}`)
	ev, err := chatbase.ParseWebhook(testSecret, signed(other), other)
	require.NoError(t, err)
	assert.Equal(t, "conversations.ended", ev.Type)
	assert.Nil(t, ev.Lead)
	assert.JSONEq(t, `{"x":1}`, string(ev.Payload))

	noPayload := []byte(`{"eventType":"leads.submit","chatbotId":"a","payload":"text"}`)
	ev, err = chatbase.ParseWebhook(testSecret, signed(noPayload), noPayload)
	require.NoError(t, err)
	assert.Nil(t, ev.Lead, "a payload that is not an object gives no lead")

	for _, bad := range []string{`[1,2]`, `null`, `not json`, `{"event":42}`} {
		_, err := chatbase.ParseWebhook(testSecret, signed([]byte(bad)), []byte(bad))
		require.ErrorIs(t, err, chatbase.ErrWebhookPayload, bad)
	}
	_, err = chatbase.ParseWebhook(testSecret, http.Header{}, []byte(`not json`))
	require.ErrorIs(t, err, chatbase.ErrWebhookSignature, "verified before decoded")
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		events []*chatbase.WebhookEvent
		fail   bool
	)
	h, err := chatbase.NewWebhookHandler(testSecret, func(_ context.Context, ev *chatbase.WebhookEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("database down " + testSecret)
		}
		events = append(events, ev)
		return nil
	}, chatbase.WithWebhookMaxBody(1024))
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	lead := chatbasetest.LeadsSubmit("agent", "conv_9", "Ada", "ada@example.com", "+1 555")
	ctx := t.Context()

	status, err := chatbasetest.DeliverWebhook(ctx, hs.URL, testSecret, lead)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	mu.Lock()
	require.Len(t, events, 1)
	assert.Equal(t, &chatbase.WebhookLead{ConversationID: "conv_9", Email: "ada@example.com", Name: "Ada", Phone: "+1 555"}, events[0].Lead)
	mu.Unlock()

	for name, tc := range map[string]struct {
		event any
		opts  []chatbasetest.DeliveryOption
		want  int
	}{
		"tampered":       {lead, []chatbasetest.DeliveryOption{chatbasetest.Tampered()}, http.StatusUnauthorized},
		"unsigned":       {lead, []chatbasetest.DeliveryOption{chatbasetest.Unsigned()}, http.StatusUnauthorized},
		"two signatures": {lead, []chatbasetest.DeliveryOption{chatbasetest.DeliveryHeader(chatbase.WebhookSignatureHeader, strings.Repeat("0", 40))}, http.StatusUnauthorized},
		"not an object":  {[]byte(`[1]`), nil, http.StatusBadRequest},
		"too large":      {[]byte(`{"eventType":"x","pad":"` + strings.Repeat("a", 2048) + `"}`), nil, http.StatusRequestEntityTooLarge},
	} {
		status, err := chatbasetest.DeliverWebhook(ctx, hs.URL, testSecret, tc.event, tc.opts...)
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, status, name)
	}

	resp, err := http.Get(hs.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	mu.Lock()
	fail = true
	mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, strings.NewReader(leadBody))
	require.NoError(t, err)
	req.Header = signed([]byte(leadBody))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "the application's failure asks for a new delivery")
	assert.NotContains(t, string(b), testSecret)
	assert.NotContains(t, string(b), "database")
	mu.Lock()
	assert.Len(t, events, 1)
	mu.Unlock()
}

func TestNewWebhookHandlerRefusesNoSecretOrFunction(t *testing.T) {
	t.Parallel()
	_, err := chatbase.NewWebhookHandler("", func(context.Context, *chatbase.WebhookEvent) error { return nil })
	require.Error(t, err)
	_, err = chatbase.NewWebhookHandler(testSecret, nil)
	require.Error(t, err)
}
