package redislimit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// replicaEnv names the environment variable that makes TestHelperReplica
// run as a replica, with its replicaSpec in JSON.
const replicaEnv = "REDISLIMIT_REPLICA"

// replicaSpec is what one replica process does: Calls chat calls, one after
// the other, through resilience.Limit over its own go-redis client and
// Limiter, against the fake at FakeURL.
type replicaSpec struct {
	Redis, FakeURL, APIKey, ChatbotID string
	Rate                              resilience.Rate
	Policy                            redislimit.Policy
	Replicas                          int
	Patient                           bool // the limiter's timeout is testenv.Hang, not the default
	Calls                             int
}

// replicaResult is what one replica saw.
type replicaResult struct {
	Sent      int           // calls that reached the provider
	Provider  int           // of those, the provider's 429s
	Throttled int           // calls its limiter refused, unsent
	MinWait   time.Duration // the shortest RetryAfter of those refusals
	Other     []string      // any other error
}

// TestHelperReplica is not a test of its own: it is the body of a replica
// process, which the fleet tests below start by running this test binary
// again with replicaEnv set. Without it, it returns at once.
func TestHelperReplica(t *testing.T) {
	raw := os.Getenv(replicaEnv)
	if raw == "" {
		return
	}
	var spec replicaSpec
	require.NoError(t, json.Unmarshal([]byte(raw), &spec))
	opts := []redislimit.Option{redislimit.WithPolicy(spec.Policy), redislimit.WithReplicas(spec.Replicas)}
	if spec.Patient {
		opts = append(opts, testenv.Patient)
	}
	lim := redislimit.New(testenv.NewClient(t, spec.Redis), spec.Rate, opts...)
	client, err := workspace.NewClient(spec.APIKey, spec.ChatbotID, chatbot.WithBaseURL(spec.FakeURL), chatbot.WithMaxRetries(0))
	require.NoError(t, err)
	bot := chatbot.Wrap(client, resilience.Limit(lim, resilience.WithMaxWait(0)))

	var res replicaResult
	for range spec.Calls {
		ctx, cancel := context.WithTimeout(t.Context(), testenv.Hang)
		_, err := bot.Chat(ctx, chatbot.Request{Message: "hello"})
		cancel()
		var apiErr *chatbot.Error
		switch {
		case err == nil:
			res.Sent++
		case errors.As(err, &apiErr) && apiErr.ProviderCode == resilience.CodeClientRateLimited:
			res.Throttled++
			if res.MinWait == 0 || apiErr.RetryAfter < res.MinWait {
				res.MinWait = apiErr.RetryAfter
			}
		case errors.Is(err, chatbot.ErrRateLimited):
			res.Sent++
			res.Provider++
		default:
			res.Other = append(res.Other, err.Error())
		}
	}
	out, err := json.Marshal(res)
	require.NoError(t, err)
	fmt.Printf("\nreplica-result %s\n", out)
}

// runReplicas runs one replica process per spec, all at once, and returns
// what each saw. Each process is bounded by the test's hang guard.
func runReplicas(t *testing.T, specs ...replicaSpec) []replicaResult {
	t.Helper()
	results := make([]replicaResult, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		raw, err := json.Marshal(spec)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 3*testenv.Hang)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperReplica$", "-test.count=1")
			cmd.Env = append(os.Environ(), replicaEnv+"="+string(raw))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if !assert.NoError(t, cmd.Run(), "replica %d: %s%s", i+1, stdout.String(), stderr.String()) {
				return
			}
			sc := bufio.NewScanner(&stdout)
			for sc.Scan() {
				if line, ok := strings.CutPrefix(sc.Text(), "replica-result "); ok {
					assert.NoError(t, json.Unmarshal([]byte(line), &results[i]))
					assert.Empty(t, results[i].Other, "replica %d", i+1)
					return
				}
			}
			assert.Fail(t, "no result", "replica %d: %s", i+1, stdout.String())
		}()
	}
	wg.Wait()
	return results
}

// fleetSpec returns n copies of spec.
func fleetSpec(n int, spec replicaSpec) []replicaSpec {
	specs := make([]replicaSpec, n)
	for i := range specs {
		specs[i] = spec
	}
	return specs
}

// TestFleetSharesProviders429 runs replicas as separate processes: the
// provider answers the first call 429 with a Retry-After of an hour; the
// replica that got it records the wait in Redis, and three other replicas
// then send nothing into the window: their limiters refuse every call with
// the provider's wait.
func TestFleetSharesProviders429(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	fake := workspacetest.NewServer(workspacetest.Config{})
	t.Cleanup(fake.Close)
	fake.SetReply("ok")
	fake.RateLimitNext(1, time.Hour)
	spec := replicaSpec{Redis: srv.Addr, FakeURL: fake.URL, APIKey: fake.APIKey(), ChatbotID: fake.ChatbotID(),
		Rate: resilience.PerSecond(100), Policy: redislimit.FailClosed, Patient: true, Calls: 1}

	first := runReplicas(t, spec)
	require.Equal(t, replicaResult{Sent: 1, Provider: 1}, first[0])

	spec.Calls = 3
	others := runReplicas(t, fleetSpec(3, spec)...)
	for i, r := range others {
		t.Logf("replica %d: %+v", i+2, r)
		assert.Zero(t, r.Sent, "replica %d sent into the provider's window", i+2)
		assert.Equal(t, 3, r.Throttled, "replica %d", i+2)
		assert.Greater(t, r.MinWait, 59*time.Minute, "replica %d waits for the provider's hour", i+2)
	}
	require.Equal(t, 1, fake.Count(), "one request reached the provider: the one it refused")
}

// TestFleetLocalTierDuringOutage runs four replica processes while Redis is
// down: under FailLocal with WithReplicas(4), each sends its share of a
// quota of 16 an hour, so the fleet sends the quota; under FailOpen the same
// fleet sends every call.
func TestFleetLocalTierDuringOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	addr := srv.Addr
	srv.Kill() // nothing listens there any more
	const replicas, calls = 4, 10
	quota := resilience.Rate{Limit: 16, Period: time.Hour, Burst: 16}
	for _, tt := range []struct {
		policy redislimit.Policy
		each   int // calls each replica sends
	}{
		{redislimit.FailLocal, quota.Limit / replicas},
		{redislimit.FailOpen, calls},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			fake := workspacetest.NewServer(workspacetest.Config{})
			t.Cleanup(fake.Close)
			fake.SetReply("ok")
			results := runReplicas(t, fleetSpec(replicas, replicaSpec{Redis: addr, FakeURL: fake.URL, APIKey: fake.APIKey(),
				ChatbotID: fake.ChatbotID(), Rate: quota, Policy: tt.policy, Replicas: replicas, Calls: calls})...)
			for i, r := range results {
				t.Logf("replica %d: %+v", i+1, r)
				assert.Equal(t, tt.each, r.Sent, "replica %d", i+1)
				assert.Equal(t, calls-tt.each, r.Throttled, "replica %d", i+1)
			}
			require.Equal(t, replicas*tt.each, fake.Count())
		})
	}
}
