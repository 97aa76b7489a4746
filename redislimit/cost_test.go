package redislimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/redislimit"
	"github.com/chatbot-go/chatbot/redislimit/internal/testenv"
	"github.com/chatbot-go/chatbot/redislimit/redistest"
	"github.com/chatbot-go/chatbot/resilience"
)

// TestAllowNChargesACost checks a budget of credits: 100 an hour, a call
// charging what it costs.
func TestAllowNChargesACost(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := testenv.NewClient(t, srv.Addr)
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			lim := redislimit.New(rdb, resilience.Rate{Limit: 100, Period: time.Hour}, testenv.Patient,
				redislimit.WithPolicy(p), redislimit.WithPrefix(t.Name()+":"))
			wait, err := lim.AllowN(t.Context(), "k", 60)
			require.NoError(t, err)
			require.Zero(t, wait)
			wait, err = lim.AllowN(t.Context(), "k", 41)
			require.NoError(t, err)
			require.Positive(t, wait, "60 + 41 is over 100: refused, taking nothing")
			assert.LessOrEqual(t, wait, time.Hour/100, "one credit short: one emission interval")
			wait, err = lim.AllowN(t.Context(), "k", 40)
			require.NoError(t, err)
			require.Zero(t, wait, "the refused call took nothing")
			wait, err = lim.Allow(t.Context(), "k")
			require.NoError(t, err)
			require.Positive(t, wait, "the hour's 100 are spent")

			wait, err = lim.AllowN(t.Context(), "k", 0)
			require.NoError(t, err)
			require.Zero(t, wait, "a call that costs nothing goes")

			_, err = lim.AllowN(t.Context(), "other", 101)
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			require.ErrorContains(t, err, "a cost of 101 exceeds the burst of 100")
			require.NotErrorIs(t, err, redislimit.ErrUnavailable)
			wait, err = lim.AllowN(t.Context(), "other", 100)
			require.NoError(t, err)
			require.Zero(t, wait, "the refused cost took nothing")
		})
	}
}
