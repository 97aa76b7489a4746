package otelchatbot

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/chatbot-go/chatbot"
)

// Names of the metrics and attributes of [LimiterMetrics].
const (
	LimiterDecisionsMetricName = "chatbot.limiter.decisions" // counter of decisions
	LimiterWaitMetricName      = "chatbot.limiter.wait"      // histogram of refusals' waits, in seconds
	LimiterDecisionKey         = "chatbot.limiter.decision"  // "allowed", "refused" (or "other")
	LimiterByKey               = "chatbot.limiter.by"        // "redis", "fail-open", "fail-closed", "fail-local" (or "other")
)

// limiterValues are the attribute values LimiterMetrics keeps; any other
// value is recorded as "other", so that the attributes stay bounded
// whatever the caller passes.
var (
	limiterDecisions = []string{"allowed", "refused"}
	limiterBys       = []string{"redis", "fail-open", "fail-closed", "fail-local"}
)

// LimiterMetrics returns a function that records a rate limiter's decisions
// as OpenTelemetry metrics, of the shape of redislimit.WithMetrics, so that a
// redislimit.Limiter reports through OpenTelemetry without either module
// importing the other: pass it as redislimit.WithMetrics(otelchatbot.LimiterMetrics()).
//
// Each decision adds one to the counter chatbot.limiter.decisions, with the
// attributes chatbot.limiter.decision (allowed or refused) and
// chatbot.limiter.by (redis when Redis decided, else the policy that did:
// fail-open, fail-closed or fail-local, which also counts Redis failures);
// a refusal with a wait records it in the histogram chatbot.limiter.wait,
// in seconds, with the same attributes. Of opts, only [WithMeterProvider]
// matters. The returned function is safe for concurrent use.
func LimiterMetrics(opts ...Option) func(ctx context.Context, decision, by string, wait time.Duration) {
	cfg := newConfig(opts)
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(chatbot.Version))
	decisions, err := meter.Int64Counter(LimiterDecisionsMetricName,
		metric.WithDescription("Rate-limit decisions, by what decided them."), metric.WithUnit("{decision}"))
	handle(err)
	waits, err := meter.Float64Histogram(LimiterWaitMetricName,
		metric.WithDescription("The wait of a rate-limit refusal."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)

	// Every attribute set, built once.
	sets := map[[2]string]metric.MeasurementOption{}
	for _, d := range append(limiterDecisions, "other") {
		for _, b := range append(limiterBys, "other") {
			sets[[2]string{d, b}] = metric.WithAttributeSet(attribute.NewSet(
				attribute.String(LimiterDecisionKey, d), attribute.String(LimiterByKey, b)))
		}
	}
	return func(ctx context.Context, decision, by string, wait time.Duration) {
		set := sets[[2]string{known(decision, limiterDecisions), known(by, limiterBys)}]
		decisions.Add(ctx, 1, set)
		if wait > 0 {
			waits.Record(ctx, wait.Seconds(), set)
		}
	}
}

// known returns v when it is one of values, and "other" otherwise.
func known(v string, values []string) string {
	for _, k := range values {
		if v == k {
			return v
		}
	}
	return "other"
}
