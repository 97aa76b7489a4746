package rest

import (
	"context"
	"log/slog"
	"time"
)

// DoDetached sends call in a goroutine of its own, for a request that must
// go out although the caller's call is over: Dify's stop of a run the
// caller broke away from. The request keeps ctx's values but not its
// cancellation, and is cancelled once within has passed on the client's
// clock, so the goroutine ends within that bound (plus the time the
// transport takes to give the connection up). The answer is discarded; a
// failure is logged at Warn (message "chatbot: detached call failed") when a
// logger is set.
func (c *Client) DoDetached(ctx context.Context, within time.Duration, call Call) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := c.clock.AfterFunc(within, cancel)
	go func() {
		defer cancel()
		defer t.Stop()
		_, err := c.Do(ctx, call, nil)
		if err != nil {
			c.logCall(ctx, slog.LevelWarn, "chatbot: detached call failed", call, slog.String("error", err.Error()))
		}
	}()
}
