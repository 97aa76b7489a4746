package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/redislimit/redistest"
)

func TestFleetWithRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	var out strings.Builder
	start := time.Now()
	all, received, err := run(t.Context(), &out, config{Replicas: 4, Duration: 2 * time.Second, RedisAddr: srv.Addr})
	elapsed := time.Since(start)
	require.NoError(t, err)
	t.Log("\n" + out.String())

	require.Len(t, all, 4)
	sent := 0
	// The provider's window counts arrivals, which a busy machine delays
	// after the limiter's decision, so a rare 429 says nothing about the
	// limiter: the bound on what was sent is the check.
	for i, c := range all {
		sent += c.Sent
		assert.Contains(t, out.String(), "replica "+string(rune('1'+i))+": sent")
	}
	assert.Equal(t, received, sent)
	assert.LessOrEqual(t, sent, rate.Burst+int(math.Ceil(elapsed.Seconds()*float64(rate.Limit))), "within the shared budget")
	assert.Contains(t, out.String(), "sharing one budget in Redis at "+srv.Addr)
}

func TestFleetWithoutRedis(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	all, received, err := run(t.Context(), &out, config{Replicas: 2, Duration: time.Second})
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Len(t, all, 2)
	assert.Contains(t, out.String(), "REDIS_ADDR is not set")
	assert.Equal(t, received, all[0].Sent+all[1].Sent)
	for _, c := range all {
		// Every refusal of its limiter came back as a client-side rate
		// limit error; the rest of those are the SDK's pre-check.
		assert.GreaterOrEqual(t, c.Held, 0)
	}
	assert.Contains(t, out.String(), "total:")
	assert.Contains(t, out.String(), "the fleet sent")
}

func TestFleetRefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, _, err := run(t.Context(), &strings.Builder{}, config{})
	require.Error(t, err)
}
