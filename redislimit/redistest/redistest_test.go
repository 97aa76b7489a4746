package redistest_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
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

// ping sends PING to addr and returns the first line of the answer, or the
// error of a read that waited d.
func ping(t *testing.T, addr string, d time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(d)))
	_, err = io.WriteString(c, "PING\r\n")
	require.NoError(t, err)
	return bufio.NewReader(c).ReadString('\n')
}

func TestFreezeThaw(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	srv.Freeze()
	_, err := ping(t, srv.Addr, 50*time.Millisecond)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout(), "a frozen server accepts the connection and answers nothing")
	srv.Thaw()
	line, err := ping(t, srv.Addr, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", line, "the PING sent while frozen, or this one")
}

func TestNewCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.NewCluster(t, 3)
	require.Len(t, cluster.Nodes, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	slots, err := rdb.ClusterSlots(t.Context()).Result()
	require.NoError(t, err)
	require.Len(t, slots, 3, "three masters, each with a range")
	owners := map[string]int{}
	for _, s := range slots {
		owners[s.Nodes[0].Addr] += s.End - s.Start + 1
	}
	assert.Len(t, owners, 3)
	total := 0
	for _, n := range owners {
		total += n
	}
	assert.Equal(t, 16384, total, "every slot is served")
	require.NoError(t, rdb.Set(t.Context(), "k", "v", 0).Err())

	pids := map[int]bool{}
	for _, n := range cluster.Nodes {
		pids[n.PID()] = true
	}
	assert.Len(t, pids, 3)
}
