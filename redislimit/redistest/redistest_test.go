package redistest_test

import (
	"net"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit/redistest"
)

func TestNewServerKillRestart(t *testing.T) {
	srv := redistest.NewServer(t)
	require.NotZero(t, srv.PID())
	c, err := net.Dial("tcp", srv.Addr)
	require.NoError(t, err)
	require.NoError(t, c.Close())

	srv.Kill()
	require.Zero(t, srv.PID())
	_, err = net.Dial("tcp", srv.Addr)
	require.Error(t, err, "a killed server refuses connections")

	srv.Restart()
	require.NotZero(t, srv.PID())
	c, err = net.Dial("tcp", srv.Addr)
	require.NoError(t, err)
	require.NoError(t, c.Close())
}

// TestMissingRedisServer runs TestNewServerKillRestart in a child process whose
// PATH has no redis-server: with CI set it fails, without CI it skips with a
// message saying how to install it.
func TestMissingRedisServer(t *testing.T) {
	bin, err := os.Executable()
	require.NoError(t, err)
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, "-test.run", "^TestNewServerKillRestart$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), "CI="+ci)
			out, err := cmd.CombinedOutput()
			require.Contains(t, string(out), "redis-server is not installed (apt-get install -y redis-server)")
			if ci != "" {
				require.Error(t, err, "a missing redis-server fails under CI:\n%s", out)
				require.Contains(t, string(out), "--- FAIL: TestNewServerKillRestart")
			} else {
				require.NoError(t, err, "%s", out)
				require.Contains(t, string(out), "--- SKIP: TestNewServerKillRestart")
			}
		})
	}
}
