package otelchatbot

import (
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope name of the tracer, the meter and
// the logger that [Middleware] creates.
const ScopeName = "github.com/chatbot-go/chatbot/otelchatbot"

// config is what a list of Options resolves to.
type config struct {
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	lp         log.LoggerProvider
	content    bool
	details    bool // emit the operation details event (latest conventions only)
	chunkTimes bool
	latest     bool // the latest experimental GenAI conventions
	now        func() time.Time
}

// OptInEnv is the environment variable [Middleware] reads, once, when it is
// called: when its comma-separated list holds "gen_ai_latest_experimental",
// the middleware emits the latest experimental GenAI conventions instead of
// those of semconv v1.41.0, as the conventions' transition plan asks of
// existing instrumentations. [WithLatestConventions] overrides it.
const OptInEnv = "OTEL_SEMCONV_STABILITY_OPT_IN"

// optInLatest is the value of [OptInEnv] that selects the latest
// conventions.
const optInLatest = "gen_ai_latest_experimental"

// latestFromEnv reports whether OptInEnv asks for the latest conventions.
func latestFromEnv() bool {
	for _, v := range strings.Split(os.Getenv(OptInEnv), ",") {
		if strings.TrimSpace(v) == optInLatest {
			return true
		}
	}
	return false
}

func newConfig(opts []Option) config {
	c := config{now: time.Now, latest: latestFromEnv()}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.lp == nil {
		c.lp = global.GetLoggerProvider()
	}
	return c
}

// Option configures [Middleware]. Options are applied in order; the last one
// wins.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the TracerProvider that creates the spans. The
// default, like a nil provider, is the global one (otel.GetTracerProvider)
// as it is when Middleware is called.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithMeterProvider sets the MeterProvider that creates the instruments. The
// default, like a nil provider, is the global one (otel.GetMeterProvider) as
// it is when Middleware is called.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithLoggerProvider sets the LoggerProvider that emits the event of
// [WithOperationDetails]. The default, like a nil provider, is the global
// one (global.GetLoggerProvider of go.opentelemetry.io/otel/log/global) as
// it is when Middleware is called.
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return optionFunc(func(c *config) { c.lp = lp })
}

// WithOperationDetails emits, under the latest conventions only (see
// [WithLatestConventions]), their opt-in event
// gen_ai.client.inference.operation.details ([OperationDetailsEventName])
// at the end of each call: a log record of the OpenTelemetry Logs API, with
// severity DEBUG, in the context of the call's span, carrying the span's
// attributes (operation, provider, conversation and response ids, usage,
// finish reasons, error.type, …). The messages, reply text and sources are
// in it only with [WithMessageContent]; the API key and error texts never
// are. Off by default, as the conventions ask of this event; under the
// v1.41.0 conventions this option does nothing.
func WithOperationDetails() Option {
	return optionFunc(func(c *config) { c.details = true })
}

// WithMessageContent records the text of each message and of each reply on
// its span (and in the event of [WithOperationDetails]), in the
// conventions' opt-in attributes gen_ai.input.messages and
// gen_ai.output.messages, and the error text of failed calls as a span
// event. Off by default: messages are user data (names, addresses, anything
// a user types). The API key is never recorded, with or without this
// option.
func WithMessageContent() Option {
	return optionFunc(func(c *config) { c.content = true })
}

// WithChunkTimes records the conventions' recommended
// gen_ai.client.operation.time_per_output_chunk histogram: one measurement
// per chunk after the first, the time since the previous chunk. Off by
// default because it costs a histogram measurement per chunk: on a
// loopback stream of 10,000 tiny deltas it slows reading by a quarter to a
// third (see BENCHMARKS.md), while the default instruments cost about 2 %. Duration, time to first chunk and chunk count are always
// recorded.
func WithChunkTimes() Option {
	return optionFunc(func(c *config) { c.chunkTimes = true })
}

// WithLatestConventions chooses the generation of the GenAI conventions the
// middleware emits, whatever [OptInEnv] says: with on, the latest
// experimental ones (open-telemetry/semantic-conventions-genai v0.1.0:
// gen_ai.client.inference.duration, gen_ai.client.inference.time_to_first_chunk,
// gen_ai.client.inference.time_per_output_chunk and
// gen_ai.client.inference.usage.input_tokens / output_tokens, and with
// [WithOperationDetails] the gen_ai.client.inference.operation.details
// event); without, those
// of semconv v1.41.0, the default. See the package documentation for both.
func WithLatestConventions(on bool) Option {
	return optionFunc(func(c *config) { c.latest = on })
}

// withClock makes the middleware read time from now; tests use it through
// export_test.go.
func withClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}
