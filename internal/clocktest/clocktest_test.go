package clocktest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/internal/clocktest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clocktest.New(start)
	var fired []string
	a := c.AfterFunc(2*time.Second, func() { fired = append(fired, "a") })
	c.AfterFunc(time.Second, func() { fired = append(fired, "b") })
	stopped := c.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	require.True(t, stopped.Stop())
	require.False(t, stopped.Stop(), "a stopped timer is not pending")

	c.Advance(999 * time.Millisecond)
	assert.Empty(t, fired)
	c.Advance(1500 * time.Millisecond)
	assert.Equal(t, []string{"b", "a"}, fired, "in deadline order")
	assert.Equal(t, start.Add(2499*time.Millisecond), c.Now())
	assert.Empty(t, c.Pending())

	assert.False(t, a.Reset(time.Minute), "a had fired")
	assert.Equal(t, []time.Duration{time.Minute}, c.Pending())
	assert.Equal(t, []time.Duration{2 * time.Second, time.Second, time.Second, time.Minute}, c.Armed())
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	c := clocktest.New(time.Now())
	set := make(chan struct{})
	go func() {
		<-set
		c.AfterFunc(time.Hour, func() {})
	}()
	close(set)
	c.WaitFor(t, time.Hour)
	assert.Equal(t, []time.Duration{time.Hour}, c.Pending())
}
