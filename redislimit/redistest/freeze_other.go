//go:build !unix

package redistest

// Freeze stops the process (SIGSTOP) on Unix; elsewhere it fails the test.
func (s *Server) Freeze() {
	s.t.Helper()
	s.t.Fatal("redistest: Freeze needs Unix signals")
}

// Thaw resumes a process stopped by [Server.Freeze].
func (s *Server) Thaw() {
	s.t.Helper()
	s.t.Fatal("redistest: Thaw needs Unix signals")
}
