package otelchatbot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/chatbot-go/chatbot/otelchatbot"
)

func TestLimiterMetrics(t *testing.T) {
	t.Parallel()
	reader := sdkmetric.NewManualReader()
	record := otelchatbot.LimiterMetrics(otelchatbot.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	ctx := t.Context()
	record(ctx, "allowed", "redis", 0)
	record(ctx, "allowed", "redis", 0)
	record(ctx, "refused", "redis", 1500*time.Millisecond)
	record(ctx, "refused", "fail-closed", 0)
	record(ctx, "allowed", "a-tenant-name", 0) // unbounded input is "other"

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	counts := map[string]int64{}
	var waits []float64
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, otelchatbot.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				require.Equal(t, otelchatbot.LimiterDecisionsMetricName, m.Name)
				assert.True(t, data.IsMonotonic)
				for _, p := range data.DataPoints {
					d, _ := p.Attributes.Value(attribute.Key(otelchatbot.LimiterDecisionKey))
					b, _ := p.Attributes.Value(attribute.Key(otelchatbot.LimiterByKey))
					counts[d.AsString()+" by "+b.AsString()] = p.Value
				}
			case metricdata.Histogram[float64]:
				require.Equal(t, otelchatbot.LimiterWaitMetricName, m.Name)
				assert.Equal(t, "s", m.Unit)
				for _, p := range data.DataPoints {
					waits = append(waits, p.Sum)
				}
			default:
				t.Fatalf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	assert.Equal(t, map[string]int64{
		"allowed by redis": 2, "refused by redis": 1, "refused by fail-closed": 1, "allowed by other": 1,
	}, counts)
	assert.Equal(t, []float64{1.5}, waits)
}
