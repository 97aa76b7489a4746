package workspace_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

const testSecret = workspacetest.DefaultWebhookSecret

// leadBody is a delivery as a JavaScript server writes it: its key order and
// spacing are not what encoding/json would produce.
const leadBody = `{"event": "LEAD_CREATED",  "data": {"name":"Ada Lovelace","id":"cm5lead1","email":"ada@example.com",` +
	`"status":"new","metadata":{"company":"Analytical Engines"},"createdAt":"2025-10-05T18:40:00.000Z"}}`

var webhookNow = time.Unix(1_760_000_000, 0).UTC()

func clock() time.Time { return webhookNow }

// signed returns headers carrying a correct signature of body (and of ts
// when not empty).
func signed(secret string, body []byte, ts string) http.Header {
	h := http.Header{}
	h.Set(workspace.WebhookSignatureHeader, workspace.SignWebhook(secret, body, ts))
	if ts != "" {
		h.Set(workspace.WebhookTimestampHeader, ts)
	}
	return h
}

// bodyScheme makes a receiver accept signatures over the body alone.
var bodyScheme = workspace.WithWebhookScheme(workspace.WebhookSignedBody)

// assertNoSecret fails when s contains the secret or any signature that
// would have been valid for body.
func assertNoSecret(t *testing.T, s string, body []byte, ts string) {
	t.Helper()
	assert.NotContains(t, s, testSecret)
	assert.NotContains(t, s, "whsec_")
	assert.NotContains(t, s, strings.TrimPrefix(workspace.SignWebhook(testSecret, body, ""), "sha256="))
	if ts != "" {
		assert.NotContains(t, s, strings.TrimPrefix(workspace.SignWebhook(testSecret, body, ts), "sha256="))
	}
}

func TestSignWebhookMatchesDocumentedScheme(t *testing.T) {
	t.Parallel()
	// The documented Node.js verifier: createHmac('sha256', secret).update(body).digest('hex').
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(leadBody))
	assert.Equal(t, "sha256="+hex.EncodeToString(m.Sum(nil)), workspace.SignWebhook(testSecret, []byte(leadBody), ""))
	// The security page's variant: the body followed by the timestamp.
	m = hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(leadBody + "1696531200"))
	assert.Equal(t, "sha256="+hex.EncodeToString(m.Sum(nil)), workspace.SignWebhook(testSecret, []byte(leadBody), "1696531200"))
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(leadBody)
	good := workspace.SignWebhook(testSecret, body, "")
	goodHex := strings.TrimPrefix(good, "sha256=")
	now := strconv.FormatInt(webhookNow.Unix(), 10)
	old := strconv.FormatInt(webhookNow.Add(-workspace.DefaultWebhookTolerance-time.Second).Unix(), 10)
	future := strconv.FormatInt(webhookNow.Add(workspace.DefaultWebhookTolerance+time.Second).Unix(), 10)

	// reencoded is body decoded and encoded again: same JSON value,
	// different bytes.
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	reencoded, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotEqual(t, string(body), string(reencoded))

	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	const sig, tsh = workspace.WebhookSignatureHeader, workspace.WebhookTimestampHeader
	body1 := []workspace.WebhookOption{bodyScheme}
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		opts   []workspace.WebhookOption
		ok     bool
	}{
		// The body scheme: the MAC covers the body alone.
		{name: "valid", header: hdr(sig, good), body: body, opts: body1, ok: true},
		{name: "valid uppercase hex", header: hdr(sig, "sha256="+strings.ToUpper(goodHex)), body: body, opts: body1, ok: true},
		{name: "valid with unsigned timestamp header", header: hdr(sig, good, tsh, now), body: body, opts: body1, ok: true},
		{name: "timestamp scheme signature under the body scheme", header: signed(testSecret, body, now), body: body, opts: body1},
		{name: "wrong secret", header: signed(testSecret+"x", body, ""), body: body, opts: body1},
		{name: "secret without whsec_ prefix", header: signed(strings.TrimPrefix(testSecret, "whsec_"), body, ""), body: body, opts: body1},
		{name: "empty secret", secret: "-", header: signed("", body, ""), body: body, opts: body1},
		{name: "tampered body", header: hdr(sig, good), body: []byte(strings.Replace(leadBody, "Ada", "Adb", 1)), opts: body1},
		{name: "one byte appended", header: hdr(sig, good), body: append([]byte(leadBody), ' '), opts: body1},
		{name: "signature over re-encoded JSON", header: signed(testSecret, reencoded, ""), body: body, opts: body1},
		{name: "raw body against re-encoded signature", header: hdr(sig, good), body: reencoded, opts: body1},
		{name: "missing header", header: hdr(), body: body, opts: body1},
		{name: "empty header", header: hdr(sig, ""), body: body, opts: body1},
		{name: "no sha256= prefix", header: hdr(sig, goodHex), body: body, opts: body1},
		{name: "uppercase prefix", header: hdr(sig, "SHA256="+goodHex), body: body, opts: body1},
		{name: "other algorithm", header: hdr(sig, "sha1="+goodHex), body: body, opts: body1},
		{name: "not hex", header: hdr(sig, "sha256="+strings.Repeat("zz", 32)), body: body, opts: body1},
		{name: "too short", header: hdr(sig, good[:len(good)-2]), body: body, opts: body1},
		{name: "too long", header: hdr(sig, good+"00"), body: body, opts: body1},
		{name: "two signature headers", header: hdr(sig, good, sig, good), body: body, opts: body1},
		// The timestamp scheme, the default: the MAC covers the body and the
		// timestamp.
		{name: "valid over body and timestamp", header: signed(testSecret, body, now), body: body, ok: true},
		{name: "body-only signature with a timestamp header", header: hdr(sig, good, tsh, now), body: body},
		{name: "body-only signature without a timestamp header", header: hdr(sig, good), body: body},
		{name: "timestamp signed but header dropped", header: hdr(sig, workspace.SignWebhook(testSecret, body, now)), body: body},
		{name: "timestamp changed", header: hdr(sig, workspace.SignWebhook(testSecret, body, now), tsh, old), body: body},
		{name: "two timestamp headers", header: hdr(sig, workspace.SignWebhook(testSecret, body, now), tsh, now, tsh, now), body: body},
		{name: "timestamp not digits", header: hdr(sig, workspace.SignWebhook(testSecret, body, "1e9"), tsh, "1e9"), body: body},
		{name: "signed timestamp too old", header: signed(testSecret, body, old), body: body},
		{name: "signed timestamp in the future", header: signed(testSecret, body, future), body: body},
		{
			name: "old timestamp, check off", header: signed(testSecret, body, old), body: body, ok: true,
			opts: []workspace.WebhookOption{workspace.WithWebhookTolerance(-1)},
		},
		{
			name: "old timestamp, wider tolerance", header: signed(testSecret, body, old), body: body, ok: true,
			opts: []workspace.WebhookOption{workspace.WithWebhookTolerance(time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := testSecret
			if tt.secret == "-" {
				secret = ""
			}
			opts := append([]workspace.WebhookOption{workspace.WithWebhookClock(clock)}, tt.opts...)
			err := workspace.VerifyWebhook(secret, tt.header, tt.body, opts...)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, workspace.ErrWebhookSignature)
			assertNoSecret(t, err.Error(), body, now)
			_, perr := workspace.ParseWebhook(secret, tt.header, tt.body, opts...)
			require.ErrorIs(t, perr, workspace.ErrWebhookSignature, "ParseWebhook verifies as VerifyWebhook does")
		})
	}
}

func TestParseWebhookLead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{name: "lead in data", body: leadBody},
		{name: "lead in data.lead", body: `{"event":"LEAD_CREATED","data":{"lead":{"id":"cm5lead1","name":"Ada Lovelace",` +
			`"email":"ada@example.com","status":"new","metadata":{"company":"Analytical Engines"},"createdAt":"2025-10-05T18:40:00.000Z"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			ev, err := workspace.ParseWebhook(testSecret, signed(testSecret, body, ""), body, bodyScheme)
			require.NoError(t, err)
			assert.Equal(t, workspace.EventLeadCreated, ev.Type)
			assert.Equal(t, tt.body, string(ev.Raw))
			require.NotNil(t, ev.Lead)
			assert.Equal(t, "cm5lead1", ev.Lead.ID)
			assert.Equal(t, "Ada Lovelace", ev.Lead.Name)
			assert.Equal(t, "ada@example.com", ev.Lead.Email)
			assert.Equal(t, "new", ev.Lead.Status)
			assert.Equal(t, "Analytical Engines", ev.Lead.Company)
			assert.Equal(t, time.Date(2025, 10, 5, 18, 40, 0, 0, time.UTC), ev.Lead.CreatedAt)
			assert.Empty(t, ev.ID, "the docs give no event id")
			assert.Equal(t, "LEAD_CREATED:cm5lead1", ev.DedupKey())
		})
	}
}

func TestParseWebhookEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		header   http.Header
		wantType string
		wantID   string
		wantData string
	}{
		{
			name: "unknown type kept raw", body: `{"event":"CONVERSATION_ENDED","data":{"conversationId":"cm5abc","turns":[1,2]}}`,
			wantType: "CONVERSATION_ENDED", wantData: `{"conversationId":"cm5abc","turns":[1,2]}`,
		},
		{name: "id in payload", body: `{"id":"evt_1","event":"X","data":null}`, wantType: "X", wantID: "evt_1", wantData: "null"},
		{name: "numeric id", body: `{"eventId":42,"event":"X"}`, wantType: "X", wantID: "42"},
		{name: "unsigned id header ignored", body: `{"event":"X"}`, header: http.Header{"X-Webhook-Id": {"dlv_9"}}, wantType: "X"},
		{name: "type instead of event", body: `{"type":"LEAD_UPDATED","data":"not an object"}`, wantType: "LEAD_UPDATED", wantData: `"not an object"`},
		{name: "no type at all", body: `{"hello":"world"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			h := signed(testSecret, body, "")
			for k, v := range tt.header {
				h[k] = v
			}
			ev, err := workspace.ParseWebhook(testSecret, h, body, bodyScheme)
			require.NoError(t, err)
			assert.Equal(t, tt.wantType, ev.Type)
			assert.Equal(t, tt.wantID, ev.ID)
			assert.Equal(t, tt.body, string(ev.Raw))
			if tt.wantData == "" {
				assert.Nil(t, ev.Data)
			} else {
				assert.Equal(t, tt.wantData, string(ev.Data))
			}
			assert.Nil(t, ev.Lead)
			sum := sha256.Sum256(body)
			if tt.wantID == "" {
				assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), ev.DedupKey())
			} else {
				assert.Equal(t, tt.wantID, ev.DedupKey())
			}
		})
	}
}

func TestParseWebhookBadPayload(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `not json`, `[1,2]`, `"LEAD_CREATED"`, `null`, `{"event":5}`, `{"event":"X"} {"event":"Y"}`, `{"event":"X"`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			_, err := workspace.ParseWebhook(testSecret, signed(testSecret, []byte(body), ""), []byte(body), bodyScheme)
			require.ErrorIs(t, err, workspace.ErrWebhookPayload)
			assert.NotErrorIs(t, err, workspace.ErrWebhookSignature)
			assertNoSecret(t, err.Error(), []byte(body), "")
		})
	}
}

func TestParseWebhookSignedTimestamp(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"X"}`)
	ts := strconv.FormatInt(webhookNow.Add(-time.Minute).Unix(), 10)
	ev, err := workspace.ParseWebhook(testSecret, signed(testSecret, body, ts), body, workspace.WithWebhookClock(clock))
	require.NoError(t, err)
	assert.Equal(t, webhookNow.Add(-time.Minute), ev.Timestamp)

	// A timestamp header the signature does not cover is not trusted.
	h := signed(testSecret, body, "")
	h.Set(workspace.WebhookTimestampHeader, ts)
	ev, err = workspace.ParseWebhook(testSecret, h, body, workspace.WithWebhookClock(clock), bodyScheme)
	require.NoError(t, err)
	assert.True(t, ev.Timestamp.IsZero())
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// recorded is what a handler's function saw.
type recorded struct {
	mu     sync.Mutex
	events []*workspace.WebhookEvent
}

func (r *recorded) fn(err error) func(context.Context, *workspace.WebhookEvent) error {
	return func(_ context.Context, ev *workspace.WebhookEvent) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev)
		return err
	}
}

func (r *recorded) all() []*workspace.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*workspace.WebhookEvent(nil), r.events...)
}

func TestWebhookHandlerStatuses(t *testing.T) {
	t.Parallel()
	body := []byte(leadBody)
	big := []byte(`{"event":"X","data":"` + strings.Repeat("a", 400) + `"}`)
	tests := []struct {
		name     string
		method   string
		header   http.Header
		body     []byte
		fnErr    error
		want     int
		wantCall bool
	}{
		{name: "valid", header: signed(testSecret, body, ""), body: body, want: http.StatusOK, wantCall: true},
		{name: "application error", header: signed(testSecret, body, ""), body: body, fnErr: errors.New("db down: password=hunter2"), want: http.StatusInternalServerError, wantCall: true},
		{name: "GET", method: http.MethodGet, header: signed(testSecret, body, ""), body: body, want: http.StatusMethodNotAllowed},
		{name: "PUT", method: http.MethodPut, header: signed(testSecret, body, ""), body: body, want: http.StatusMethodNotAllowed},
		{name: "wrong secret", header: signed("whsec_other", body, ""), body: body, want: http.StatusUnauthorized},
		{name: "tampered", header: signed(testSecret, body, ""), body: []byte(strings.Replace(leadBody, "new", "neW", 1)), want: http.StatusUnauthorized},
		{name: "missing signature", header: http.Header{}, body: body, want: http.StatusUnauthorized},
		{name: "malformed signature", header: http.Header{workspace.WebhookSignatureHeader: {"sha256=xyz"}}, body: body, want: http.StatusUnauthorized},
		{name: "invalid JSON", header: signed(testSecret, []byte("{nope"), ""), body: []byte("{nope"), want: http.StatusBadRequest},
		{name: "not an object", header: signed(testSecret, []byte("[]"), ""), body: []byte("[]"), want: http.StatusBadRequest},
		{name: "too large", header: signed(testSecret, big, ""), body: big, want: http.StatusRequestEntityTooLarge},
		{name: "unknown event", header: signed(testSecret, []byte(`{"event":"NEW_THING"}`), ""), body: []byte(`{"event":"NEW_THING"}`), want: http.StatusOK, wantCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec recorded
			h, err := workspace.NewWebhookHandler(testSecret, rec.fn(tt.fnErr), workspace.WithWebhookMaxBody(256), bodyScheme)
			require.NoError(t, err)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequestWithContext(t.Context(), method, "/hooks/pollybot", strings.NewReader(string(tt.body)))
			req.Header = tt.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)

			assert.Equal(t, tt.want, w.Code)
			if tt.want == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
			}
			out := w.Body.String()
			assertNoSecret(t, out, tt.body, "")
			assert.NotContains(t, out, "hunter2", "fn's error is not written")
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
	const limit = 64
	body := []byte(`{"event":"X","data":"` + strings.Repeat("a", 10_000) + `"}`)
	for _, knownLength := range []bool{false, true} {
		t.Run("content length known "+strconv.FormatBool(knownLength), func(t *testing.T) {
			t.Parallel()
			var rec recorded
			h, err := workspace.NewWebhookHandler(testSecret, rec.fn(nil), workspace.WithWebhookMaxBody(limit), bodyScheme)
			require.NoError(t, err)
			cr := &countingReader{r: strings.NewReader(string(body))}
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", cr)
			req.ContentLength = -1
			if knownLength {
				req.ContentLength = int64(len(body))
			}
			req.Header = signed(testSecret, body, "")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
			assert.LessOrEqual(t, cr.n, limit+1, "read past the cap")
			if knownLength {
				assert.Zero(t, cr.n, "a declared length over the cap is refused unread")
			}
			assert.Empty(t, rec.all())
		})
	}
	t.Run("unsigned body is not read", func(t *testing.T) {
		t.Parallel()
		var rec recorded
		h, err := workspace.NewWebhookHandler(testSecret, rec.fn(nil))
		require.NoError(t, err)
		cr := &countingReader{r: strings.NewReader(string(body))}
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", cr)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Zero(t, cr.n)
	})
	t.Run("exactly at the cap", func(t *testing.T) {
		t.Parallel()
		exact := []byte(`{"event":"X","data":"` + strings.Repeat("a", limit-23) + `"}`)
		require.Len(t, exact, limit)
		var rec recorded
		h, err := workspace.NewWebhookHandler(testSecret, rec.fn(nil), workspace.WithWebhookMaxBody(limit), bodyScheme)
		require.NoError(t, err)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(string(exact)))
		req.Header = signed(testSecret, exact, "")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Len(t, rec.all(), 1)
	})
}

type ctxKey struct{}

func TestWebhookHandlerUsesRequestContext(t *testing.T) {
	t.Parallel()
	var got any
	h, err := workspace.NewWebhookHandler(testSecret, func(ctx context.Context, _ *workspace.WebhookEvent) error {
		got = ctx.Value(ctxKey{})
		return nil
	}, bodyScheme)
	require.NoError(t, err)
	body := []byte(leadBody)
	ctx := context.WithValue(t.Context(), ctxKey{}, "the request's")
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(leadBody))
	req.Header = signed(testSecret, body, "")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "the request's", got)
}

func TestNewWebhookHandlerRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	_, err := workspace.NewWebhookHandler("", func(context.Context, *workspace.WebhookEvent) error { return nil })
	require.Error(t, err)
	_, err = workspace.NewWebhookHandler(testSecret, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testSecret)
}

// TestWebhookEndToEnd delivers with the fake, over real HTTP, and checks that
// the answer is written only after the application's function returned.
func TestWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	entered := make(chan *workspace.WebhookEvent, 1)
	release := make(chan error)
	h, err := workspace.NewWebhookHandler(testSecret, func(ctx context.Context, ev *workspace.WebhookEvent) error {
		entered <- ev
		select {
		case err := <-release:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}, workspace.WithWebhookClock(clock))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	lead := map[string]any{"id": "cm5lead2", "name": "Grace Hopper", "email": "grace@example.com", "status": "new"}
	for _, tc := range []struct {
		name   string
		opts   []workspacetest.DeliveryOption
		appErr error
		want   int
	}{
		{name: "signed over body and timestamp", want: http.StatusOK},
		{name: "application error", appErr: errors.New("queue full"), want: http.StatusInternalServerError},
	} {
		tc.opts = append(tc.opts, workspacetest.SignedAt(webhookNow))
		status := make(chan int, 1)
		go func() {
			code, err := workspacetest.DeliverWebhook(t.Context(), srv.URL, testSecret, workspacetest.LeadCreated(lead), tc.opts...)
			assert.NoError(t, err)
			status <- code
		}()
		var ev *workspace.WebhookEvent
		select {
		case ev = <-entered:
		case code := <-status:
			t.Fatalf("%s: answered %d without calling the function", tc.name, code)
		}
		assert.Equal(t, "Grace Hopper", ev.Lead.Name, tc.name)
		select {
		case code := <-status:
			t.Fatalf("%s: answered %d before the function returned", tc.name, code)
		default:
		}
		release <- tc.appErr
		assert.Equal(t, tc.want, <-status, tc.name)
	}

	for _, tc := range []struct {
		name string
		opts []workspacetest.DeliveryOption
	}{
		{name: "tampered", opts: []workspacetest.DeliveryOption{workspacetest.SignedAt(webhookNow), workspacetest.Tampered()}},
		{name: "unsigned", opts: []workspacetest.DeliveryOption{workspacetest.SignedAt(webhookNow), workspacetest.Unsigned()}},
		{name: "signed over the body alone", opts: []workspacetest.DeliveryOption{workspacetest.BodySigned()}},
		{name: "old signed timestamp", opts: []workspacetest.DeliveryOption{workspacetest.SignedAt(webhookNow.Add(-time.Hour))}},
		{name: "second signature", opts: []workspacetest.DeliveryOption{workspacetest.SignedAt(webhookNow), workspacetest.DeliveryHeader(workspace.WebhookSignatureHeader, "sha256=00")}},
	} {
		code, err := workspacetest.DeliverWebhook(t.Context(), srv.URL, testSecret, workspacetest.LeadCreated(lead), tc.opts...)
		require.NoError(t, err, tc.name)
		assert.Equal(t, http.StatusUnauthorized, code, tc.name)
	}
	code, err := workspacetest.DeliverWebhook(t.Context(), srv.URL, "whsec_wrong", workspacetest.LeadCreated(lead), workspacetest.SignedAt(webhookNow))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Empty(t, entered, "no rejected delivery reached the function")
}

func TestDeliverWebhookErrorsHideSecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	_, err := workspacetest.DeliverWebhook(t.Context(), url, testSecret, workspacetest.LeadCreated(nil))
	require.Error(t, err)
	assertNoSecret(t, err.Error(), nil, "")
	_, err = workspacetest.DeliverWebhook(t.Context(), url, testSecret, func() {})
	require.Error(t, err)
	assertNoSecret(t, err.Error(), nil, "")
}

// TestWebhookReplayThroughTheTimestampSchemeIsRefused replays a recorded
// delivery signed over body and timestamp, an hour later, in every way the
// signed bytes allow: as is (the timestamp is too old), with the
// timestamp's digits moved into the body and the header dropped (the
// signature then equals the MAC of the new body alone), and with the digits
// split differently between body and header. None verifies, under either
// scheme, and the handler answers 401 without calling the application.
func TestWebhookReplayThroughTheTimestampSchemeIsRefused(t *testing.T) {
	t.Parallel()
	body := []byte(leadBody)
	recordedAt := strconv.FormatInt(webhookNow.Add(-time.Hour).Unix(), 10)
	sigValue := workspace.SignWebhook(testSecret, body, recordedAt)
	require.NoError(t, workspace.VerifyWebhook(testSecret, signed(testSecret, body, recordedAt), body,
		workspace.WithWebhookClock(func() time.Time { return webhookNow.Add(-time.Hour) })), "the recorded delivery was authentic when sent")

	replays := []struct {
		name   string
		body   []byte
		header http.Header
	}{
		{name: "as recorded", body: body, header: http.Header{
			workspace.WebhookSignatureHeader: {sigValue}, workspace.WebhookTimestampHeader: {recordedAt}}},
		{name: "timestamp moved into the body", body: []byte(leadBody + recordedAt), header: http.Header{
			workspace.WebhookSignatureHeader: {sigValue}}},
		{name: "timestamp moved into the body, a fresh header added", body: []byte(leadBody + recordedAt), header: http.Header{
			workspace.WebhookSignatureHeader: {sigValue}, workspace.WebhookTimestampHeader: {strconv.FormatInt(webhookNow.Unix(), 10)}}},
		{name: "digits split differently", body: []byte(leadBody + recordedAt[:2]), header: http.Header{
			workspace.WebhookSignatureHeader: {sigValue}, workspace.WebhookTimestampHeader: {recordedAt[2:]}}},
	}
	for _, r := range replays {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			for _, opts := range [][]workspace.WebhookOption{
				{workspace.WithWebhookClock(clock)},
				{workspace.WithWebhookClock(clock), bodyScheme},
			} {
				err := workspace.VerifyWebhook(testSecret, r.header, r.body, opts...)
				require.ErrorIs(t, err, workspace.ErrWebhookSignature)
				assertNoSecret(t, err.Error(), r.body, "")
			}
			var rec recorded
			h, err := workspace.NewWebhookHandler(testSecret, rec.fn(nil), workspace.WithWebhookClock(clock))
			require.NoError(t, err)
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(string(r.body)))
			req.Header = r.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Empty(t, rec.all())
		})
	}
}

// TestWebhookDedupKeyTellsUpdatesOfOneLeadApart delivers two updates of one
// lead (no event id, different updatedAt), each twice as a retry would, to a
// handler that deduplicates on DedupKey as the README shows: both updates
// reach the application once each. Updates without an updatedAt are told
// apart by their bodies.
func TestWebhookDedupKeyTellsUpdatesOfOneLeadApart(t *testing.T) {
	t.Parallel()
	update := func(status, updatedAt string) []byte {
		lead := `{"id":"cm5lead1","name":"Ada Lovelace","status":"` + status + `"`
		if updatedAt != "" {
			lead += `,"updatedAt":"` + updatedAt + `"`
		}
		return []byte(`{"event":"LEAD_UPDATED","data":` + lead + `}}`)
	}
	for _, tc := range []struct {
		name   string
		first  []byte
		second []byte
	}{
		{name: "different updatedAt", first: update("contacted", "2025-10-05T18:40:00.000Z"), second: update("won", "2025-10-06T09:12:00.250Z")},
		{name: "no updatedAt", first: update("contacted", ""), second: update("won", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var seen sync.Map
			var handled []string
			h, err := workspace.NewWebhookHandler(testSecret, func(_ context.Context, ev *workspace.WebhookEvent) error {
				if _, dup := seen.LoadOrStore(ev.DedupKey(), true); !dup {
					handled = append(handled, ev.Lead.Status)
				}
				return nil
			}, bodyScheme)
			require.NoError(t, err)
			var keys []string
			for _, body := range [][]byte{tc.first, tc.first, tc.second, tc.second} {
				ev, err := workspace.ParseWebhook(testSecret, signed(testSecret, body, ""), body, bodyScheme)
				require.NoError(t, err)
				keys = append(keys, ev.DedupKey())
				req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(string(body)))
				req.Header = signed(testSecret, body, "")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				require.Equal(t, http.StatusOK, w.Code)
			}
			assert.Equal(t, keys[0], keys[1], "a retry has the key of its event")
			assert.Equal(t, keys[2], keys[3], "a retry has the key of its event")
			assert.NotEqual(t, keys[0], keys[2], "two updates of one lead have different keys")
			assert.Equal(t, []string{"contacted", "won"}, handled, "each update handled once")
		})
	}
}
