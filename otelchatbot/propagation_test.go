package otelchatbot_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// setupTraced is setup with the user's otelhttp transport on the client and
// a logger over the module's LogHandler, as the package documentation shows.
func setupTraced(t *testing.T, opts ...otelchatbot.Option) *rig {
	t.Helper()
	return setup(t, func(r *rig) []chatbot.Option {
		transport := otelhttp.NewTransport(http.DefaultTransport.(*http.Transport).Clone(),
			otelhttp.WithTracerProvider(r.tp), otelhttp.WithPropagators(propagation.TraceContext{}))
		return []chatbot.Option{
			chatbot.WithHTTPClient(&http.Client{Transport: transport}),
			chatbot.WithLogger(slog.New(otelchatbot.NewLogHandler(nil))),
		}
	}, opts...)
}

// chatbotSpans returns the ended spans of this module and of otelhttp.
func chatbotSpans(t *testing.T, r *rig) (chat sdktrace.ReadOnlySpan, http []sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range r.spans.Ended() {
		if s.InstrumentationScope().Name == otelchatbot.ScopeName {
			require.Nil(t, chat, "one chatbot span")
			chat = s
		} else {
			http = append(http, s)
		}
	}
	require.NotNil(t, chat)
	return chat, http
}

func TestTraceContextReachesProvider(t *testing.T) {
	t.Parallel()
	for _, streaming := range []bool{false, true} {
		t.Run(map[bool]string{false: "Chat", true: "Stream"}[streaming], func(t *testing.T) {
			t.Parallel()
			r := setupTraced(t)
			if streaming {
				_, err := collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 0)
				require.NoError(t, err)
			} else {
				_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
				require.NoError(t, err)
			}
			chat, https := chatbotSpans(t, r)
			require.Len(t, https, 1)
			assert.Equal(t, chat.SpanContext().SpanID(), https[0].Parent().SpanID(), "the HTTP span is a child of the chat span")
			assert.Equal(t, trace.SpanKindClient, https[0].SpanKind())

			reqs := r.srv.Requests()
			require.Len(t, reqs, 1)
			tp := strings.Split(reqs[0].Header.Get("traceparent"), "-") // version-traceid-spanid-flags
			require.Len(t, tp, 4, "the provider received a traceparent")
			assert.Equal(t, chat.SpanContext().TraceID().String(), tp[1])
			assert.Equal(t, https[0].SpanContext().SpanID().String(), tp[2])
		})
	}
}

// event is a span event reduced to what the tests compare: its name, its
// exact attributes but for the durations the SDK measured or drew at random,
// and the names of those.
type event struct {
	Name      string
	Attrs     map[attribute.Key]attribute.Value
	Durations []attribute.Key
}

// events returns the span's events. Each attribute named in durations that
// an event has must be a duration, positive but for "duration" (an
// attempt's measured time, which is only not negative); it moves from Attrs
// to Durations.
func events(t *testing.T, s sdktrace.ReadOnlySpan, durations ...attribute.Key) []event {
	t.Helper()
	var out []event
	for _, e := range s.Events() {
		ev := event{Name: e.Name, Attrs: attrMap(e.Attributes)}
		for _, k := range durations {
			v, ok := ev.Attrs[k]
			if !ok {
				continue
			}
			d, err := time.ParseDuration(v.AsString())
			if assert.NoError(t, err, "event %q attribute %s", e.Name, k) {
				if k == "duration" {
					assert.GreaterOrEqual(t, d, time.Duration(0), "event %q attribute %s", e.Name, k)
				} else {
					assert.Positive(t, d, "event %q attribute %s", e.Name, k)
				}
			}
			delete(ev.Attrs, k)
			ev.Durations = append(ev.Durations, k)
		}
		out = append(out, ev)
	}
	return out
}

// lineAttrs is the exact attributes of one of the SDK's log lines about the
// workspace fake's chat call: the call, then kvs.
func lineAttrs(r *rig, kvs ...attribute.KeyValue) map[attribute.Key]attribute.Value {
	return attrMap(append([]attribute.KeyValue{
		attribute.String("provider", "workspace"),
		attribute.String("method", http.MethodPost),
		attribute.String("path", "chatbots/"+r.srv.ChatbotID()+"/chat"),
	}, kvs...))
}

func TestRetryIsSpanEvent(t *testing.T) {
	t.Parallel()
	r := setupTraced(t)
	r.srv.RateLimitNext(1, 0) // one 429 without Retry-After: the client backs off and tries again
	reply, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.NoError(t, err)
	require.NotEmpty(t, reply.Text)
	assert.Equal(t, 2, r.srv.Count())

	chat, https := chatbotSpans(t, r)
	assert.Len(t, https, 2, "one HTTP span per attempt")
	// An attempt's duration and the backoff (jittered) are checked to be
	// durations, not compared.
	dur, wait := []attribute.Key{"duration"}, []attribute.Key{"wait"}
	assert.Equal(t, []event{
		{"chatbot: http attempt", lineAttrs(r, attribute.Int("attempt", 1), attribute.Int("status", http.StatusTooManyRequests)), dur},
		{"chatbot: retrying", lineAttrs(r, attribute.Int("attempt", 1), attribute.Int("status", http.StatusTooManyRequests)), wait},
		{"chatbot: http attempt", lineAttrs(r, attribute.Int("attempt", 2), attribute.Int("status", http.StatusOK)), dur},
	}, events(t, chat, "duration", "wait"))
}

// TestRefusalIsSpanEvent has the provider ask for a wait longer than the
// client sleeps: the call ends at once with the 429, and the chat span shows
// the attempt and the refusal with the wait the provider asked for.
func TestRefusalIsSpanEvent(t *testing.T) {
	t.Parallel()
	r := setupTraced(t)
	r.srv.RateLimitNext(1, time.Hour)
	_, err := r.bot.Chat(t.Context(), chatbot.Request{Message: question})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	assert.Equal(t, 1, r.srv.Count(), "not retried")

	chat, https := chatbotSpans(t, r)
	assert.Len(t, https, 1)
	assert.Equal(t, []event{
		{"chatbot: http attempt", lineAttrs(r, attribute.Int("attempt", 1), attribute.Int("status", http.StatusTooManyRequests)),
			[]attribute.Key{"duration"}},
		{"chatbot: refused by the provider", lineAttrs(r, attribute.Int("attempt", 1), attribute.Int("status", http.StatusTooManyRequests),
			attribute.String("retry_after", time.Hour.String())), nil},
	}, events(t, chat, "duration"))
}

// TestAPIKeyNeverRecorded runs every path, with content recording on and a
// provider that echoes the key in its error message, and searches all that
// the spans export for the key.
func TestAPIKeyNeverRecorded(t *testing.T) {
	t.Parallel()
	r := setupTraced(t, otelchatbot.WithMessageContent())
	key := r.srv.APIKey()
	ask := func() {
		_, _ = r.bot.Chat(t.Context(), chatbot.Request{Message: question})
		_, _ = collect(r.bot.Stream(t.Context(), chatbot.Request{Message: question}), 0)
	}
	ask()
	r.srv.RateLimitNext(1, 0)
	ask()
	r.srv.RateLimitNext(2, time.Hour) // refused: a wait longer than the client sleeps
	ask()
	r.srv.FailNext(2, workspacetest.Failure{Status: http.StatusUnauthorized, Code: "INVALID_API_KEY", Message: "Invalid API key " + key})
	ask()
	r.srv.CutAfter(150)
	ask()

	spans := r.spans.Ended()
	require.GreaterOrEqual(t, len(spans), 21, "10 chat spans, 11 HTTP spans")
	seen := map[string]bool{}
	for _, s := range spans {
		for _, e := range s.Events() {
			seen[e.Name] = true
		}
		assert.NotContains(t, dump(s), key)
		assert.NotContains(t, dump(s), key[len(key)-8:])
	}
	for _, name := range []string{"chatbot: http attempt", "chatbot: retrying", "chatbot: refused by the provider", "exception"} {
		assert.True(t, seen[name], "the search covered the %q events", name)
	}
	for name, points := range r.histograms(t) {
		for _, p := range points {
			for k, v := range p.Attrs {
				assert.NotContains(t, v.String(), key[len(key)-8:], "metric %s attribute %s", name, k)
			}
		}
	}
}
