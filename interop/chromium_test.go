package interop_test

import (
	"context"
	"fmt"
	"iter"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/examples/relay/page"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// hang bounds every wait for an event a correct program delivers at once.
const hang = 30 * time.Second

// browser starts Debian's headless Chromium for the test and returns a
// context whose every child from chromedp.NewContext is a new tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	require.NoError(t, err, "install Debian's chromium")
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers give /dev/shm 64 MB
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx)) // start the browser
	return ctx
}

// botText is a JavaScript expression: the reply's text once it is not
// empty, else null.
const botText = `(() => { const p = document.querySelector("p.bot"); return p && p.textContent !== "" ? p.textContent : null; })()`

// gated answers "Hello", then waits for next (or the caller going away)
// before " world".
type gated struct{ next chan struct{} }

func (g gated) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	return chatbot.Collect(g.Stream(ctx, req))
}

func (g gated) Stream(ctx context.Context, _ chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		if !yield(chatbot.Chunk{Text: "Hello", ConversationID: "conv-1"}, nil) {
			return
		}
		select {
		case <-g.next:
		case <-ctx.Done():
			yield(chatbot.Chunk{}, fmt.Errorf("gated: %w", ctx.Err()))
			return
		}
		if yield(chatbot.Chunk{Text: " world", ConversationID: "conv-1"}, nil) {
			yield(chatbot.Chunk{ConversationID: "conv-1", Done: true}, nil)
		}
	}
}

// ask opens the page at url in a new tab of b and sends a message.
func ask(t *testing.T, b context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	tab, cancelTimeout := context.WithTimeout(tab, hang)
	t.Cleanup(cancelTimeout)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("input")),
		chromedp.SendKeys(chromedp.ID("input"), "hi"),
		chromedp.Click(chromedp.ID("send")),
	))
	return tab
}

func TestPageInChromium(t *testing.T) {
	b := browser(t)

	t.Run("text appears incrementally", func(t *testing.T) {
		bot := gated{next: make(chan struct{})}
		srv := httptest.NewServer(page.Handler(bot, nil))
		t.Cleanup(srv.Close)
		tab := ask(t, b, srv.URL+"/")

		// The bot holds the rest of the reply until the page shows the
		// first piece: what the page shows now was streamed, not buffered.
		text, err := chromedp.Run(tab, chromedp.Poll[string](botText, chromedp.WithPollingMutation()))
		require.NoError(t, err)
		assert.Equal(t, "Hello", text)
		state, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.dataset.state`))
		require.NoError(t, err)
		assert.Equal(t, "streaming", state)

		close(bot.next)
		_, err = chromedp.Run(tab, chromedp.Poll[bool](`document.body.dataset.state === "done"`, chromedp.WithPollingMutation()))
		require.NoError(t, err)
		text, err = chromedp.Run(tab, chromedp.Evaluate[string](botText))
		require.NoError(t, err)
		assert.Equal(t, "Hello world", text)
	})

	t.Run("closing the page cancels the upstream stream", func(t *testing.T) {
		fake := workspacetest.NewServer(workspacetest.Config{})
		t.Cleanup(fake.Close)
		fake.SetReply("First ", "second")
		fake.StallAfter(1)
		client, err := workspace.NewClient(fake.APIKey(), fake.ChatbotID(), chatbot.WithBaseURL(fake.URL))
		require.NoError(t, err)
		srv := httptest.NewServer(page.Handler(client, nil))
		t.Cleanup(srv.Close)

		tab := ask(t, b, srv.URL+"/")
		text, err := chromedp.Run(tab, chromedp.Poll[string](botText, chromedp.WithPollingMutation()))
		require.NoError(t, err)
		assert.Equal(t, "First ", text)
		select {
		case <-fake.Stalled():
		case <-time.After(hang):
			t.Fatal("the fake never held the stream")
		}

		require.NoError(t, chromedp.Cancel(tab)) // close the tab
		select {
		case <-fake.Disconnects():
		case <-time.After(hang):
			t.Fatal("closing the page left the provider's stream open")
		}
	})
}
