package fake_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/chatbot-go/chatbot/internal/fake"
)

func TestWindowSlides(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	w := fake.NewWindow(2, 10*time.Second)
	limit, used, reset := w.State(t0)
	assert.Equal(t, 2, limit)
	assert.Equal(t, 0, used)
	assert.Equal(t, t0.Add(10*time.Second), reset, "an empty window resets a whole size away")

	_, ok := w.Admit(t0)
	assert.True(t, ok)
	_, ok = w.Admit(t0.Add(4 * time.Second))
	assert.True(t, ok)
	wait, ok := w.Admit(t0.Add(5 * time.Second))
	assert.False(t, ok, "full")
	assert.Equal(t, 5*time.Second, wait, "until the first request leaves")
	_, used, reset = w.State(t0.Add(5 * time.Second))
	assert.Equal(t, 2, used, "a refused request is not counted")
	assert.Equal(t, t0.Add(10*time.Second), reset)

	_, ok = w.Admit(t0.Add(10 * time.Second))
	assert.True(t, ok, "the first request has left")
	_, used, reset = w.State(t0.Add(10 * time.Second))
	assert.Equal(t, 2, used)
	assert.Equal(t, t0.Add(14*time.Second), reset)

	w.Set(0, 0)
	limit, used, _ = w.State(t0)
	assert.Equal(t, 1, limit, "at least one")
	assert.Equal(t, 0, used, "Set forgets")
}
