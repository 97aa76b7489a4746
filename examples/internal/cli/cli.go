// Package cli holds what every example's main does the same way: stop on
// Ctrl-C or SIGTERM (what a process manager or Kubernetes sends), and exit 0
// for -h.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Signals are the signals that end an example cleanly.
var Signals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// Context returns a context cancelled by the first of [Signals], and the
// function that stops listening for them.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), Signals...)
}

// ExitCode is the process exit code for run's error: 0 for success and for
// -h (flag.ErrHelp, whose usage text the flag set has already printed), 1
// otherwise, after printing "name: err" to stderr.
func ExitCode(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}
