package resilience

import (
	"context"
	"time"
)

// Limiter decides whether one call under a key may be sent now. The key
// names the budget the call spends (by default the provider and chatbot id,
// see [Limit]); implementations keep one budget per key.
//
// Allow takes one unit of the key's budget and returns 0 when the call may go
// now. When the budget is spent it takes nothing and returns how long until
// one unit will be free. An error means the limiter could not decide (its
// store is unreachable, say); what the caller then does is the limiter's
// documented policy.
//
// Implementations must be safe for concurrent use.
type Limiter interface {
	Allow(ctx context.Context, key string) (wait time.Duration, err error)
}
