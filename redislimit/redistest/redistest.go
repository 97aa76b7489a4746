// Package redistest starts throw-away redis-server processes for tests, in
// the way of net/http/httptest: no mock, no in-memory imitation, the same
// binary a deployment runs, on a free loopback port, stopped when the test
// ends. The tests of module redislimit use it; so can an application's tests
// of its own redislimit setup:
//
//	srv := redistest.NewServer(t) // skips the test when redis-server is not installed
//	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
//	lim := redislimit.New(rdb, resilience.Rate{Limit: 10})
//
// It needs redis-server on PATH (Debian: apt-get install redis-server) and
// runs no system service.
package redistest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startAttempts is how many free ports NewServer tries: another process can take
// the port between the probe and redis-server's bind.
const startAttempts = 3

// pingAttempts bounds the PING poll after redis-server says it is ready.
const pingAttempts = 50

// readyTimeout bounds the wait for the "Ready to accept connections" line,
// a guard against a wedged binary, not a speed assertion.
const readyTimeout = 30 * time.Second

// Server is one redis-server process on a loopback port, with persistence
// off. Create it with [NewServer]. Its methods are for the test goroutine.
type Server struct {
	// Addr is host:port, for redis.Options.Addr.
	Addr string

	t    testing.TB
	bin  string
	dir  string
	port int
	args []string // more arguments for redis-server
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *syncBuffer
}

// NewServer starts redis-server on a free port of 127.0.0.1 with persistence
// off (--save "" --appendonly no), waits until it answers PING, and
// registers [Server.Close] with t.Cleanup, which kills it by its PID.
//
// When redis-server is not installed, NewServer skips the test with a
// message saying how to install it, or fails it when the CI environment
// variable is set (CI must run these tests). When it cannot start the server,
// it fails the test.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return newServer(t)
}

func newServer(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := lookPath(t, "redis-server")
	if err != nil {
		return nil
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: args}
	t.Cleanup(s.Close)
	var last error
	for range startAttempts {
		s.port, last = freePort()
		if last == nil {
			if last = s.start(); last == nil {
				return s
			}
		}
	}
	t.Fatalf("redistest: cannot start redis-server: %v", last)
	return nil
}

// lookPath finds a Redis binary, or skips t (fails it when CI is set).
func lookPath(t testing.TB, name string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		msg := name + " is not installed (apt-get install -y redis-server); the tests of redislimit need a real one"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " and CI is set, so this is a failure")
		}
		t.Skip(msg)
	}
	return bin, err
}

// Restart starts redis-server again on the same port after [Server.Kill]
// (its data is gone: persistence is off), and waits until it answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: cannot restart redis-server on port %d: %v", s.port, err)
	}
}

// Kill kills the process with SIGKILL, as a crash would, and waits until it
// has exited. Clients see their connections reset and new dials refused.
func (s *Server) Kill() { s.Close() }

// Close kills the process if it runs and waits until it has exited.
// [NewServer] registers it with t.Cleanup.
func (s *Server) Close() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// PID returns the process id of the running server, or 0.
func (s *Server) PID() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) start() error {
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	ready := make(chan struct{})
	s.log = &syncBuffer{match: []byte("Ready to accept connections"), ready: ready}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no",
		"--protected-mode", "yes")
	cmd.Args = append(cmd.Args, s.args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		return &startError{s.log.String()}
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		return &startError{"not ready within " + readyTimeout.String() + ": " + s.log.String()}
	}
	s.cmd, s.done = cmd, done
	for range pingAttempts {
		if ping(s.Addr) {
			return nil
		}
	}
	s.Close()
	return &startError{"ready but no answer to PING: " + s.log.String()}
}

// ping sends PING and reports whether +PONG came back. Each attempt waits
// at most a second for its answer, so the poll is bounded.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type startError struct{ log string }

func (e *startError) Error() string { return "redis-server: " + strings.TrimSpace(e.log) }

// syncBuffer keeps the server's log and closes ready when match appears.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match []byte
	ready chan struct{}
	seen  bool
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, _ := b.buf.Write(p)
	if !b.seen && bytes.Contains(b.buf.Bytes(), b.match) {
		b.seen = true
		close(b.ready)
	}
	return n, nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
