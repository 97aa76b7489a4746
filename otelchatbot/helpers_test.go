package otelchatbot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/otelchatbot"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// epoch is the fake clock's first reading.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// tickClock is a clock that moves one second forward at each reading, so
// that a Chat lasts exactly 1 s and a stream of n chunks n+1 s, with 1 s to
// the first chunk and 1 s between chunks.
type tickClock struct{ n atomic.Int64 }

func (c *tickClock) Now() time.Time {
	return epoch.Add(time.Duration(c.n.Add(1)-1) * time.Second)
}

// rig is a workspace fake, a client of it wrapped in the middleware, and the
// span recorder, metric reader and log exporter the middleware reports to.
type rig struct {
	srv    *workspacetest.Server
	client *workspace.Client
	bot    chatbot.Chatbot
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	logs   *logExporter
	lp     *sdklog.LoggerProvider
}

// logExporter keeps the log records it is given, in memory.
type logExporter struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (e *logExporter) Export(_ context.Context, records []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range records {
		e.records = append(e.records, r.Clone())
	}
	return nil
}

func (e *logExporter) Shutdown(context.Context) error   { return nil }
func (e *logExporter) ForceFlush(context.Context) error { return nil }

// newLogs returns an exporter and a LoggerProvider that hands it each
// record as it is emitted.
func newLogs() (*logExporter, *sdklog.LoggerProvider) {
	e := &logExporter{}
	return e, sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(e)))
}

// emitted returns the log records emitted so far.
func (r *rig) emitted() []sdklog.Record {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return append([]sdklog.Record(nil), r.logs.records...)
}

// setup starts the rig. The client is pointed at the fake and made with
// the options clientOpts returns (nil: none), the middleware with opts and
// the ticking clock.
func setup(t *testing.T, clientOpts func(*rig) []chatbot.Option, opts ...otelchatbot.Option) *rig {
	t.Helper()
	r := &rig{
		srv:    workspacetest.NewServer(workspacetest.Config{}),
		spans:  tracetest.NewSpanRecorder(),
		reader: sdkmetric.NewManualReader(),
	}
	t.Cleanup(r.srv.Close)
	r.logs, r.lp = newLogs()
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	copts := []chatbot.Option{chatbot.WithBaseURL(r.srv.URL)}
	if clientOpts != nil {
		copts = append(copts, clientOpts(r)...)
	}
	var err error
	r.client, err = workspace.NewClient(r.srv.APIKey(), r.srv.ChatbotID(), copts...)
	require.NoError(t, err)
	clock := &tickClock{}
	r.bot = chatbot.Wrap(r.client, otelchatbot.Middleware(append([]otelchatbot.Option{
		otelchatbot.WithTracerProvider(r.tp), otelchatbot.WithMeterProvider(mp), otelchatbot.WithLoggerProvider(r.lp),
		otelchatbot.WithClock(clock.Now),
	}, opts...)...))
	return r
}

// onlySpan returns the one span the recorder ended.
func (r *rig) onlySpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := r.spans.Ended()
	require.Len(t, spans, 1)
	return spans[0]
}

// attrMap returns attrs as a map, for exact comparison.
func attrMap(attrs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(attrs))
	for _, a := range attrs {
		m[a.Key] = a.Value
	}
	return m
}

// point is one histogram data point, reduced to what the tests compare.
type point struct {
	Attrs map[attribute.Key]attribute.Value
	Count uint64
	Sum   float64
}

// histograms collects the metrics and returns the points of each histogram
// by name.
func (r *rig) histograms(t *testing.T) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(t.Context(), &rm))
	out := make(map[string][]point)
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, otelchatbot.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrMap(p.Attributes.ToSlice()), p.Count, p.Sum})
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrMap(p.Attributes.ToSlice()), p.Count, float64(p.Sum)})
				}
			default:
				t.Fatalf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}
