// Package faults holds redislimit's fault-injection tests: redis-server
// killed and restarted under load, the cooldown, a Redis slowed by Toxiproxy,
// all with goroutine-leak checks. It is a nested module, as module
// reliability is for the core, so that its test-only dependencies (Toxiproxy
// and what it pulls in: Prometheus, zerolog; goleak) stay out of the module
// graph of redislimit's users. It has no API.
package faults
