package sitegpt_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

const testToken = sitegpttest.DefaultWebhookToken

func tokenHeader(vals ...string) http.Header {
	return http.Header{http.CanonicalHeaderKey(sitegpt.WebhookTokenHeader): vals}
}

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	require.NoError(t, err)
	return b
}

func TestVerifyWebhookToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		token  string
		header http.Header
		ok     bool
	}{
		{name: "valid", token: testToken, header: tokenHeader(testToken), ok: true},
		{name: "header name in any case", token: testToken, header: http.Header{"X-Webhook-Token": {testToken}}, ok: true},
		{name: "wrong token", token: testToken, header: tokenHeader("abc-messages-xyz")},
		{name: "one byte off", token: testToken, header: tokenHeader(testToken[:len(testToken)-1] + "X")},
		{name: "prefix of the token", token: testToken, header: tokenHeader(testToken[:len(testToken)-1])},
		{name: "token plus a byte", token: testToken, header: tokenHeader(testToken + "x")},
		{name: "different case", token: testToken, header: tokenHeader(strings.ToUpper(testToken))},
		{name: "missing", token: testToken, header: http.Header{}},
		{name: "empty value", token: testToken, header: tokenHeader("")},
		{name: "two values", token: testToken, header: tokenHeader(testToken, testToken)},
		{name: "empty configured token", token: "", header: tokenHeader("")},
		{name: "in another header", token: testToken, header: http.Header{"Authorization": {"Bearer " + testToken}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := sitegpt.VerifyWebhook(tt.token, tt.header)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, sitegpt.ErrWebhookToken)
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, err.Error(), testToken[:len(testToken)-1])
		})
	}
}

func TestParseWebhookEvents(t *testing.T) {
	t.Parallel()

	t.Run("message", func(t *testing.T) {
		t.Parallel()
		body := readGolden(t, "add_message.json")
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		assert.Equal(t, sitegpt.EventAddMessage, ev.Type)
		assert.Equal(t, string(body), string(ev.Raw))
		require.NotNil(t, ev.Message)
		m := ev.Message
		assert.Equal(t, "chatbot_123", m.ChatbotID)
		assert.Equal(t, "thread_456", m.ThreadID)
		assert.Equal(t, "gpt-3.5-turbo", m.GPTModel)
		assert.Equal(t, "How do I reset my password?", m.Question)
		assert.Equal(t, "To reset your password, click on 'Forgot Password' on the login page.", m.Answer)
		assert.Equal(t, "NORMAL_MESSAGE", m.MessageType)
		assert.Empty(t, m.AgentID)
		require.Len(t, m.Sources, 2)
		assert.Equal(t, "https://example.com/docs/page2", m.Sources[1].URL)
		assert.Nil(t, ev.Escalation)
		assert.Nil(t, ev.Lead)
		sum := sha256.Sum256(body)
		assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), ev.DedupKey())
	})

	t.Run("escalation", func(t *testing.T) {
		t.Parallel()
		body := readGolden(t, "escalation.json")
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		require.NotNil(t, ev.Escalation)
		assert.Equal(t, "thread_456", ev.Escalation.ThreadID)
		assert.Equal(t, "chatbot_123", ev.Escalation.ChatbotID)
		assert.Equal(t, &sitegpt.ChatUser{Email: "v@example.com", Name: "Visitor"}, ev.Escalation.ChatUser)
		assert.JSONEq(t, string(ev.Data), string(ev.Escalation.Raw))
		assert.Nil(t, ev.Message)
	})

	t.Run("lead", func(t *testing.T) {
		t.Parallel()
		body := readGolden(t, "lead.json")
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		require.NotNil(t, ev.Lead)
		assert.Equal(t, "Ada", ev.Lead.Name)
		assert.Equal(t, "ada@example.com", ev.Lead.Email)
		assert.Equal(t, "+1 555 0100", ev.Lead.Phone)
		assert.Equal(t, "thread_456", ev.Lead.ThreadID)
	})

	t.Run("lead with its visitor in chatUser", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"event":"NEW_LEAD","data":{"threadId":"t1","chatUser":{"email":"e@example.com","name":"N","phoneNumber":"1"}}}`)
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		require.NotNil(t, ev.Lead)
		assert.Equal(t, sitegpt.WebhookLead{ThreadID: "t1", Name: "N", Email: "e@example.com", Phone: "1", Raw: ev.Data}, *ev.Lead)
	})

	t.Run("unknown type kept raw", func(t *testing.T) {
		t.Parallel()
		body := readGolden(t, "unknown_event.json")
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		assert.Equal(t, "THREAD_RESOLVED", ev.Type)
		assert.Equal(t, `{"threadId":"thread_456","resolved":true}`, string(ev.Data))
		assert.Equal(t, string(body), string(ev.Raw))
		assert.Nil(t, ev.Message)
		assert.Nil(t, ev.Escalation)
		assert.Nil(t, ev.Lead)
	})

	t.Run("ids", func(t *testing.T) {
		t.Parallel()
		for body, want := range map[string]string{
			`{"id":"evt_1","event":"ADD_MESSAGE","data":{"id":"m"}}`:          "evt_1",
			`{"event":"ADD_MESSAGE","data":{"messageId":376290410396385873}}`: "376290410396385873",
			`{"event":"ADD_MESSAGE","data":{"id":"376290410396385873"}}`:      "376290410396385873",
		} {
			ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), []byte(body))
			require.NoError(t, err, body)
			assert.Equal(t, want, ev.ID, body)
			assert.Equal(t, want, ev.DedupKey(), body)
		}
	})

	t.Run("fields of unexpected types", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"event":"ADD_MESSAGE","data":{"threadId":7,"answer":{"text":"x"},"sources":"none","agentId":12}}`)
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), body)
		require.NoError(t, err)
		require.NotNil(t, ev.Message)
		assert.Equal(t, "7", ev.Message.ThreadID)
		assert.Equal(t, "12", ev.Message.AgentID)
		assert.Empty(t, ev.Message.Answer)
		assert.Nil(t, ev.Message.Sources)
	})
}

func TestParseWebhookRefusals(t *testing.T) {
	t.Parallel()
	body := readGolden(t, "add_message.json")
	_, err := sitegpt.ParseWebhook(testToken, tokenHeader("nope"), body)
	require.ErrorIs(t, err, sitegpt.ErrWebhookToken)
	for _, bad := range []string{``, `nope`, `[]`, `null`, `"ADD_MESSAGE"`, `{"event":["ADD_MESSAGE"]}`, `{"event":"X"}x`} {
		_, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), []byte(bad))
		require.ErrorIs(t, err, sitegpt.ErrWebhookPayload, bad)
		assert.NotContains(t, err.Error(), testToken)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type recorded struct {
	mu     sync.Mutex
	events []*sitegpt.WebhookEvent
}

func (r *recorded) fn(err error) func(context.Context, *sitegpt.WebhookEvent) error {
	return func(_ context.Context, ev *sitegpt.WebhookEvent) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev)
		return err
	}
}

func (r *recorded) all() []*sitegpt.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*sitegpt.WebhookEvent(nil), r.events...)
}

func TestWebhookHandlerStatuses(t *testing.T) {
	t.Parallel()
	body := readGolden(t, "add_message.json")
	big := []byte(`{"event":"X","data":"` + strings.Repeat("a", 1000) + `"}`)
	tests := []struct {
		name     string
		method   string
		header   http.Header
		body     []byte
		fnErr    error
		want     int
		wantCall bool
	}{
		{name: "valid", header: tokenHeader(testToken), body: body, want: http.StatusOK, wantCall: true},
		{name: "application error", header: tokenHeader(testToken), body: body, fnErr: errors.New("crm down, key " + testToken), want: http.StatusInternalServerError, wantCall: true},
		{name: "GET", method: http.MethodGet, header: tokenHeader(testToken), body: body, want: http.StatusMethodNotAllowed},
		{name: "wrong token", header: tokenHeader("abc-messages-xyz"), body: body, want: http.StatusUnauthorized},
		{name: "missing token", header: http.Header{}, body: body, want: http.StatusUnauthorized},
		{name: "two tokens", header: tokenHeader("x", testToken), body: body, want: http.StatusUnauthorized},
		{name: "invalid JSON", header: tokenHeader(testToken), body: []byte(`{"event":`), want: http.StatusBadRequest},
		{name: "too large", header: tokenHeader(testToken), body: big, want: http.StatusRequestEntityTooLarge},
		{name: "unknown event", header: tokenHeader(testToken), body: []byte(`{"event":"SOMETHING_NEW","data":{"a":1}}`), want: http.StatusOK, wantCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec recorded
			h, err := sitegpt.NewWebhookHandler(testToken, rec.fn(tt.fnErr), sitegpt.WithWebhookMaxBody(900))
			require.NoError(t, err)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequestWithContext(t.Context(), method, "/hooks/sitegpt", strings.NewReader(string(tt.body)))
			req.Header = tt.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tt.want, w.Code)
			assert.NotContains(t, w.Body.String(), testToken)
			assert.NotContains(t, w.Body.String(), "crm down")
			calls := rec.all()
			if !tt.wantCall {
				assert.Empty(t, calls)
				return
			}
			require.Len(t, calls, 1)
			assert.Equal(t, string(tt.body), string(calls[0].Raw))
		})
	}
}

func TestWebhookHandlerBodyCap(t *testing.T) {
	t.Parallel()
	const limit = 100
	body := []byte(`{"event":"X","data":"` + strings.Repeat("a", 10_000) + `"}`)
	for _, tc := range []struct {
		name     string
		header   http.Header
		length   int64
		want     int
		maxRead  int
		wantRead bool
	}{
		{name: "unknown length", header: tokenHeader(testToken), length: -1, want: http.StatusRequestEntityTooLarge, maxRead: limit + 1},
		{name: "declared length", header: tokenHeader(testToken), length: int64(len(body)), want: http.StatusRequestEntityTooLarge},
		{name: "no token", header: http.Header{}, length: -1, want: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorded
			h, err := sitegpt.NewWebhookHandler(testToken, rec.fn(nil), sitegpt.WithWebhookMaxBody(limit))
			require.NoError(t, err)
			cr := &countingReader{r: strings.NewReader(string(body))}
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", cr)
			req.ContentLength = tc.length
			req.Header = tc.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tc.want, w.Code)
			assert.LessOrEqual(t, cr.n, tc.maxRead)
			assert.Empty(t, rec.all())
		})
	}
}

func TestNewWebhookHandlerRefusesEmptyToken(t *testing.T) {
	t.Parallel()
	_, err := sitegpt.NewWebhookHandler("", func(context.Context, *sitegpt.WebhookEvent) error { return nil })
	require.Error(t, err)
	_, err = sitegpt.NewWebhookHandler(testToken, nil)
	require.Error(t, err)
}

// TestThreadWebhookEndToEnd sets a thread's webhook with UpdateThread, then
// has the fake deliver to it over real HTTP: the answer comes only after the
// application's function returned.
func TestThreadWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	entered := make(chan *sitegpt.WebhookEvent, 1)
	release := make(chan error)
	h, err := sitegpt.NewWebhookHandler(testToken, func(ctx context.Context, ev *sitegpt.WebhookEvent) error {
		entered <- ev
		select {
		case err := <-release:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	require.NoError(t, err)
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)

	srv := sitegpttest.NewServer(sitegpttest.Config{})
	t.Cleanup(srv.Close)
	c, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	th, err := c.CreateThread(t.Context(), sitegpt.CreateThreadRequest{})
	require.NoError(t, err)
	_, err = c.UpdateThread(t.Context(), th.ThreadID, sitegpt.UpdateThreadRequest{WebhookURL: receiver.URL, WebhookToken: testToken})
	require.NoError(t, err)
	reqs := srv.Requests()
	assert.JSONEq(t, `{"webhookUrl":"`+receiver.URL+`","webhookToken":"`+testToken+`"}`, string(reqs[len(reqs)-1].Body))

	event := sitegpttest.AddMessage(srv.ChatbotID(), th.ThreadID, "Hi", "Hello!")
	for i, appErr := range []error{nil, errors.New("try later")} {
		status := make(chan int, 1)
		go func() {
			code, err := srv.DeliverThreadWebhook(t.Context(), th.ThreadID, event)
			assert.NoError(t, err)
			status <- code
		}()
		ev := <-entered
		require.NotNil(t, ev.Message)
		assert.Equal(t, th.ThreadID, ev.Message.ThreadID)
		assert.Equal(t, "Hello!", ev.Message.Answer)
		select {
		case code := <-status:
			t.Fatalf("delivery %d answered %d before the function returned", i, code)
		default:
		}
		release <- appErr
		want := http.StatusOK
		if appErr != nil {
			want = http.StatusInternalServerError
		}
		assert.Equal(t, want, <-status)
	}

	for _, opts := range [][]sitegpttest.DeliveryOption{
		{sitegpttest.Tampered()},
		{sitegpttest.WithoutToken()},
		{sitegpttest.DeliveryHeader(sitegpt.WebhookTokenHeader, testToken)}, // a second token
	} {
		code, err := srv.DeliverThreadWebhook(t.Context(), th.ThreadID, event, opts...)
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, code)
	}
	code, err := sitegpttest.DeliverWebhook(t.Context(), receiver.URL, "abc-messages-xyz", event)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Empty(t, entered)

	_, err = srv.DeliverThreadWebhook(t.Context(), "no-such-thread", event)
	require.Error(t, err)
	other, err := c.CreateThread(t.Context(), sitegpt.CreateThreadRequest{})
	require.NoError(t, err)
	_, err = srv.DeliverThreadWebhook(t.Context(), other.ThreadID, event)
	require.Error(t, err)
}

func TestDeliverWebhookErrorsHideToken(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, err := sitegpttest.DeliverWebhook(t.Context(), url, testToken, sitegpttest.AddMessage("b", "t", "q", "a"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
	_, err = sitegpttest.DeliverWebhook(t.Context(), url, testToken, make(chan int))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
}

// FuzzWebhook feeds arbitrary bodies and token headers to ParseWebhook and to
// the handler, seeded from testdata/webhooks. Nothing may panic; only a
// delivery carrying exactly the token may reach the application, and then
// with its exact bytes; the handler and ParseWebhook must agree. With
// correct set the right token is sent, so the decoder sees every body.
func FuzzWebhook(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		body, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(body, "", true)
		f.Add(body, testToken, false)
		f.Add(body, testToken+"x", false)
		f.Add(body, testToken[:5], false)
	}
	f.Add([]byte(`{"event":"LEAD","data":{"chatUser":[]}}`), "", true)
	f.Add([]byte(`{"event":"ESCALATED","data":null}`), "", true)
	f.Add([]byte(`{"event":"ADD_MESSAGE"}`), "", true)

	var got *sitegpt.WebhookEvent
	h, err := sitegpt.NewWebhookHandler(testToken, func(_ context.Context, ev *sitegpt.WebhookEvent) error {
		got = ev
		return nil
	})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, body []byte, token string, correct bool) {
		if correct {
			token = testToken
		}
		header := tokenHeader(token)
		ok := token == testToken

		ev, perr := sitegpt.ParseWebhook(testToken, header, body)
		if !ok {
			require.ErrorIs(t, perr, sitegpt.ErrWebhookToken)
			require.Nil(t, ev)
		}
		if perr == nil {
			require.Equal(t, body, []byte(ev.Raw))
		}

		got = nil
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header = header
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch {
		case !ok:
			require.Equal(t, http.StatusUnauthorized, w.Code)
			require.Nil(t, got, "an unauthenticated body reached the application")
		case perr == nil:
			require.Equal(t, http.StatusOK, w.Code, strconv.Quote(string(body)))
			require.NotNil(t, got)
			require.Equal(t, body, []byte(got.Raw))
		default:
			require.ErrorIs(t, perr, sitegpt.ErrWebhookPayload)
			require.Equal(t, http.StatusBadRequest, w.Code)
			require.Nil(t, got)
		}
		require.NotContains(t, w.Body.String(), testToken)
	})
}

// TestWebhookDedupKeyTellsUpdatesOfOneLeadApart checks that two different
// events about one lead or one thread, whose data carry the same "id" and
// no event id, get different keys (that id names the lead, not the event),
// while a retry of each keeps its key and a message keeps its message id.
func TestWebhookDedupKeyTellsUpdatesOfOneLeadApart(t *testing.T) {
	t.Parallel()
	key := func(body string) string {
		t.Helper()
		ev, err := sitegpt.ParseWebhook(testToken, tokenHeader(testToken), []byte(body))
		require.NoError(t, err)
		return ev.DedupKey()
	}
	for _, pair := range [][2]string{
		{`{"event":"LEAD_UPDATED","data":{"id":"lead_1","email":"ada@example.com"}}`,
			`{"event":"LEAD_UPDATED","data":{"id":"lead_1","email":"ada@analytical.example"}}`},
		{`{"event":"ESCALATION","data":{"id":"thread_9","chatUser":{"name":"Ada"}}}`,
			`{"event":"ESCALATION","data":{"id":"thread_9","chatUser":{"name":"Ada L."}}}`},
	} {
		assert.NotEqual(t, key(pair[0]), key(pair[1]), pair[0])
		assert.Equal(t, key(pair[0]), key(pair[0]), "a retry keeps its key")
	}
	assert.Equal(t, "m1", key(`{"event":"ADD_MESSAGE","data":{"id":"m1"}}`))
}
