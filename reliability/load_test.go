package reliability_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
)

// TestLoad runs 1,000 concurrent streams through one client against each
// streaming fake: every reply complete and exact, no goroutine left, and the
// number of connections reported (at most one per request, and never more
// open at once than MaxConnsPerHost when the caller's transport sets it).
func TestLoad(t *testing.T) {
	const streams = 1000
	for _, p := range streaming() {
		for _, maxConns := range []int{0, 64} {
			t.Run(fmt.Sprintf("%s/MaxConnsPerHost=%d", p.name, maxConns), func(t *testing.T) {
				leakCheck(t)
				f := p.start(t, "", 2)
				t.Cleanup(f.close)
				tr := newTransport()
				tr.MaxConnsPerHost = maxConns
				t.Cleanup(tr.CloseIdleConnections)
				bot, err := p.newClient(f.key, f.id, chatbot.WithBaseURL(f.url), chatbot.WithHTTPClient(&http.Client{Transport: tr}))
				require.NoError(t, err)

				want := replyText(2)
				start := make(chan struct{})
				var wg sync.WaitGroup
				failures := make(chan error, streams)
				for i := range streams {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						r, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: fmt.Sprintf("message %d", i)}))
						if !assert.NoError(t, err) {
							failures <- err
							return
						}
						assert.Equal(t, want, r.Text)
					}()
				}
				close(start)
				wg.Wait()
				close(failures)
				require.Empty(t, failures)

				conns := f.connections()
				require.Positive(t, conns)
				// Each request in flight holds one connection; userdesk sends
				// two per stream (conversation, then message). A cloned
				// DefaultTransport keeps only 2 idle connections per host, so
				// without MaxConnsPerHost most of them are dialled afresh.
				require.LessOrEqual(t, conns, f.count(), "at most one connection per request")
				if maxConns > 0 {
					require.LessOrEqual(t, tr.maxOpen.Load(), int64(maxConns), "never more open at once than MaxConnsPerHost")
				}
				t.Logf("%d streams: %d requests, %d connections accepted, at most %d open at once", streams, f.count(), conns, tr.maxOpen.Load())
			})
		}
	}
}
