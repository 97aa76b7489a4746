package redistest

import (
	"bufio"
	"context"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of redis-server processes, each a master with
// a share of the hash slots and no replica. Create it with [NewCluster].
type Cluster struct {
	// Nodes are the masters, in the order of their slot ranges: Nodes[0]
	// serves the lowest slots.
	Nodes []*Server
}

// Addrs returns the nodes' addresses, for redis.ClusterOptions.Addrs.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// NewCluster starts n (at least 3) redis-server processes with cluster mode
// on, joins them with redis-cli --cluster create, and waits until every node
// reports the cluster state ok. The nodes keep serving their slots when
// another node is down (cluster-require-full-coverage no), so a test can
// kill one and see the others go on. Each node is stopped by its PID at
// cleanup, as [NewServer]'s are. It skips or fails t as NewServer does when
// redis-server or redis-cli is not installed.
func NewCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("redistest: a cluster needs at least 3 masters, not %d", n)
	}
	cli, err := lookPath(t, "redis-cli")
	if err != nil {
		return nil
	}
	c := &Cluster{}
	for range n {
		c.Nodes = append(c.Nodes, newServer(t,
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-require-full-coverage", "no"))
	}
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v: %s", err, out)
	}
	for _, node := range c.Nodes {
		if err := waitClusterOK(ctx, node.Addr); err != nil {
			t.Fatalf("redistest: cluster node %s: %v", node.Addr, err)
		}
	}
	return c
}

// waitClusterOK polls CLUSTER INFO at addr until it says cluster_state:ok
// or ctx ends.
func waitClusterOK(ctx context.Context, addr string) error {
	for {
		state, err := clusterState(addr)
		if err == nil && state == "ok" {
			return nil
		}
		timer := time.NewTimer(10 * time.Millisecond) // polling pace, not a bound
		select {
		case <-ctx.Done():
			timer.Stop()
			return &startError{"cluster state " + state + " after " + readyTimeout.String()}
		case <-timer.C:
		}
	}
}

// clusterState returns the cluster_state field of CLUSTER INFO at addr.
func clusterState(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "CLUSTER INFO\r\n"); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	header, err := r.ReadString('\n') // $<length>
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(header, "$")))
	if err != nil {
		return "", &startError{"CLUSTER INFO: " + header}
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "cluster_state:"); ok {
			return v, nil
		}
	}
	return "", &startError{"CLUSTER INFO without cluster_state"}
}
