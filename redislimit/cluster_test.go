package redislimit_test

import (
	"cmp"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
)

// TestClusterShardDownKeepsTenantsIsolated is issue 32 item 3: on a
// three-node cluster, the node serving one tenant's budget is killed; that
// tenant gets the policy (and then the cooldown), while a tenant whose budget
// lives on a healthy node is still decided by Redis, under either policy.
func TestClusterShardDownKeepsTenantsIsolated(t *testing.T) {
	t.Parallel()
	cluster := redistest.NewCluster(t, 3)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })

	type setup struct {
		lim        *redislimit.Limiter
		down, well string // a tenant on the node that dies, one on another
	}
	setups := map[redislimit.Policy]*setup{}
	for _, p := range policies {
		s := &setup{lim: redislimit.New(rdb, hourly, redislimit.WithPolicy(p), redislimit.WithPrefix(p.String()+":"),
			redislimit.WithTimeout(testenv.Hang))}
		// Spend each tenant's hour, then find where its budget lives.
		for i := 0; s.down == "" || s.well == ""; i++ {
			require.Less(t, i, 200, "200 tenants, none on one of the nodes")
			tenant := fmt.Sprintf("tenant-%d", i)
			wait, err := s.lim.Allow(t.Context(), tenant)
			require.NoError(t, err)
			require.Zero(t, wait)
			if onNode(t, cluster.Nodes[0], p.String()+":"+tenant) {
				s.down = cmp.Or(s.down, tenant)
			} else {
				s.well = cmp.Or(s.well, tenant)
			}
		}
		setups[p] = s
	}

	cluster.Nodes[0].Kill()
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			s := setups[p]
			wait, err := s.lim.Allow(t.Context(), s.down)
			checkPolicy(t, p, wait, err)
			wait, err = s.lim.Allow(t.Context(), s.down)
			checkPolicy(t, p, wait, err)
			if p == redislimit.FailClosed {
				assert.ErrorContains(t, err, "cooldown", "the dead node's tenants are in the cooldown")
			}

			wait, err = s.lim.Allow(t.Context(), s.well)
			require.NoError(t, err, "a healthy node's tenant is not in the dead node's cooldown")
			require.Positive(t, wait, "Redis decided: the tenant's hour is spent")
		})
	}
}

// onNode reports whether srv holds the budget of prefix+key, whatever the
// encoding of its name.
func onNode(t *testing.T, srv *redistest.Server, suffix string) bool {
	t.Helper()
	keys, err := testenv.NewClient(t, srv.Addr).Keys(t.Context(), "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// checkPolicy asserts that an Allow that Redis could not answer followed the
// policy.
func checkPolicy(t *testing.T, p redislimit.Policy, wait time.Duration, err error) {
	t.Helper()
	if p == redislimit.FailOpen {
		require.NoError(t, err)
		require.Zero(t, wait, "fail-open lets the call go")
		return
	}
	require.ErrorIs(t, err, redislimit.ErrUnavailable)
}
