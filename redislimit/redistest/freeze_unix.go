//go:build unix

package redistest

import "syscall"

// Freeze stops the process (SIGSTOP), as a stalled host or a long pause
// would: connections stay open and new ones are accepted by the kernel, but
// nothing is answered until [Server.Thaw]. [Server.Kill] and Close kill a frozen
// server as well. Freeze fails the test on a system without signals.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a process stopped by [Server.Freeze] (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("redistest: the server is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v: %v", sig, err)
	}
}
