package otelchatbot_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
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
	var names []string
	var statuses []attribute.Value
	var retry map[attribute.Key]attribute.Value
	for _, e := range chat.Events() {
		names = append(names, e.Name)
		attrs := attrMap(e.Attributes)
		if s, ok := attrs["status"]; ok {
			statuses = append(statuses, s)
		}
		if e.Name == "chatbot: retrying" {
			retry = attrs
		}
	}
	assert.Equal(t, []string{"chatbot: http attempt", "chatbot: retrying", "chatbot: http attempt"}, names)
	assert.Equal(t, []attribute.Value{attribute.Int64Value(429), attribute.Int64Value(200)}, statuses)
	require.NotNil(t, retry)
	assert.Equal(t, attribute.StringValue("workspace"), retry["provider"])
	assert.Equal(t, attribute.StringValue(http.MethodPost), retry["method"])
	assert.Equal(t, attribute.Int64Value(1), retry["attempt"])
	assert.Contains(t, retry, attribute.Key("wait"))
	assert.Equal(t, attribute.StringValue("chatbots/"+r.srv.ChatbotID()+"/chat"), retry["path"])
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
	r.srv.FailNext(2, http.StatusUnauthorized, "INVALID_API_KEY", "Invalid API key "+key)
	ask()
	r.srv.CutAfter(150)
	ask()

	spans := r.spans.Ended()
	require.GreaterOrEqual(t, len(spans), 16)
	var events int
	for _, s := range spans {
		events += len(s.Events())
		assert.NotContains(t, dump(s), key)
		assert.NotContains(t, dump(s), key[len(key)-8:])
	}
	assert.Positive(t, events, "the search covered events")
	for name, points := range r.histograms(t) {
		for _, p := range points {
			for k, v := range p.Attrs {
				assert.NotContains(t, v.String(), key[len(key)-8:], "metric %s attribute %s", name, k)
			}
		}
	}
}
