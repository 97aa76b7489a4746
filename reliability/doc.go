// Package reliability holds the SDK's fault-injection, hostile-input, secret
// and load tests. It is a nested module so that its test-only dependencies
// (Toxiproxy, goleak) stay out of the library's go.mod; it has no API.
package reliability
