package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// serveEnv, when set in the environment, makes this program (or the test
// binary, see TestMain) serve the open-streams scenario's streams instead of
// measuring: the scenario runs its server in a child process, so that the
// heap and goroutines it measures are the client's alone.
const serveEnv = "CHATBOT_BENCH_SERVE_OPEN_STREAMS"

// openPace is how often an open stream's server sends a delta after the
// first: rarely, as a relay service's streams spend most of their time
// waiting for the next token.
const openPace = 3 * time.Second

// serveOpenStreams is the child process: it listens on loopback, prints its
// address, and holds every stream open, sending a first delta at once and
// then one every openPace, until a "release" line on stdin ends the streams
// open at that moment with their end marker. It exits when stdin closes.
func serveOpenStreams(stdin io.Reader, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		release = make(chan struct{})
	)
	current := func() <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		return release
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/chatbots/{id}/chat", func(w http.ResponseWriter, r *http.Request) {
		holdOpen(w, r, current(), "text/event-stream", func(i int) []byte { return openAIEvent(deltaText(i)) }, doneEvent)
	})
	mux.HandleFunc("POST /v1/chatbot/{id}/message", func(w http.ResponseWriter, r *http.Request) {
		holdOpen(w, r, current(), "text/plain; charset=utf-8", func(i int) []byte { return []byte(deltaText(i)) }, nil)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintln(stdout, ln.Addr().String())
	lines := bufio.NewScanner(stdin)
	for lines.Scan() {
		if lines.Text() == "release" {
			mu.Lock()
			close(release)
			release = make(chan struct{})
			mu.Unlock()
		}
	}
	return srv.Close()
}

// holdOpen writes delta(0) at once, then delta(i) every openPace, until
// release is closed (then tail ends the reply) or the client goes away.
func holdOpen(w http.ResponseWriter, r *http.Request, release <-chan struct{}, contentType string, delta func(int) []byte, tail []byte) {
	drain(r)
	w.Header().Set("Content-Type", contentType)
	flusher := w.(http.Flusher)
	tick := time.NewTicker(openPace)
	defer tick.Stop()
	for i := 0; ; i++ {
		if _, err := w.Write(delta(i)); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-release:
			_, _ = w.Write(tail)
			return
		case <-tick.C:
		}
	}
}

// child is the open-streams server running in a child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startChild starts this executable as the open-streams server and reads
// the address it listens on.
func startChild() (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("open-streams server: %w", err)
	}
	return &child{cmd: cmd, stdin: stdin, addr: "http://" + strings.TrimSpace(addr)}, nil
}

// release ends every stream open now.
func (c *child) release() error {
	_, err := io.WriteString(c.stdin, "release\n")
	return err
}

// stop closes the child's stdin, which ends it, and waits for it.
func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// serveIfChild runs the child's server and exits when this process was
// started as one; it returns at once otherwise.
func serveIfChild() {
	if os.Getenv(serveEnv) == "" {
		return
	}
	err := serveOpenStreams(os.Stdin, os.Stdout)
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "open-streams server:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
