package transcript

import (
	"context"
	"io"
	"regexp"
	"testing"
	"time"
)

// hang bounds the waits of [Serve], far above what a working example needs.
const hang = 30 * time.Second

var listening = regexp.MustCompile(`listening on (http://\S+)/\n`)

// Serve runs an example's server, run, until the test ends, and returns the
// base URL it prints ("listening on http://…/") and what it writes. run
// must serve until ctx is done and then return nil.
func Serve(tb testing.TB, run func(ctx context.Context, out io.Writer) error) (string, *Buffer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(tb.Context())
	out := &Buffer{}
	result := make(chan error, 1)
	go func() { result <- run(ctx, out) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-result:
			if err != nil {
				tb.Errorf("the example failed: %v", err)
			}
		case <-time.After(hang):
			tb.Error("the example did not shut down")
		}
	})
	text, ok := out.WaitFor(listening.MatchString, hang)
	if !ok {
		tb.Fatalf("the example did not say where it listens: %s", text)
	}
	return listening.FindStringSubmatch(text)[1], out
}
