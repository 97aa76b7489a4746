package otelchatbot

// WithClock makes the middleware read time from now, so tests can check
// durations exactly.
var WithClock = withClock
