// Package cli holds what every example's main does the same way: stop on
// Ctrl-C or SIGTERM (what a process manager or Kubernetes sends), exit 0
// for -h, and serve HTTP until stopped.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
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

// Serve serves h on ln until ctx is done, then shuts the server down,
// waiting a few seconds for open streams (they end when their callers go
// away or the provider finishes) before it closes them.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
