package chatbottest_test

import (
	"context"
	"iter"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbottest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// deaf checks its context before calling, but does not pass the
// cancellation on to the HTTP request: a cancelled caller keeps waiting.
type deaf struct{ chatbot.Chatbot }

func (d deaf) Info() chatbot.Info { return chatbot.InfoOf(d.Chatbot) }

func (d deaf) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.Chatbot.Chat(context.WithoutCancel(ctx), req)
}

func (d deaf) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	inner := d.Chatbot.Stream(context.WithoutCancel(ctx), req)
	return func(yield func(chatbot.Chunk, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(chatbot.Chunk{}, err)
			return
		}
		for ch, err := range inner {
			if !yield(ch, err) {
				return
			}
		}
	}
}

// leaky reads its stream in a goroutine; when the caller's loop breaks, the
// goroutine is left blocked with the response body open: the connection is
// kept, though the caller's loop returned at once.
type leaky struct{ chatbot.Chatbot }

func (l leaky) Info() chatbot.Info { return chatbot.InfoOf(l.Chatbot) }

func (l leaky) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	type pair struct {
		ch  chatbot.Chunk
		err error
	}
	inner := l.Chatbot.Stream(ctx, req)
	return func(yield func(chatbot.Chunk, error) bool) {
		pairs := make(chan pair)
		go func() {
			for ch, err := range inner {
				pairs <- pair{ch, err}
			}
			close(pairs)
		}()
		for p := range pairs {
			if !yield(p.ch, p.err) {
				return
			}
		}
	}
}

// forgetful forwards the Info of a Bot, which claims sources, usage and
// finish reasons, but drops them from every reply and chunk.
type forgetful struct{ *chatbottest.Bot }

func (f forgetful) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	r, err := f.Bot.Chat(ctx, req)
	if r != nil {
		r.Sources, r.Usage, r.FinishReason = nil, nil, ""
	}
	return r, err
}

func (f forgetful) Stream(ctx context.Context, req chatbot.Request) iter.Seq2[chatbot.Chunk, error] {
	inner := f.Bot.Stream(ctx, req)
	return func(yield func(chatbot.Chunk, error) bool) {
		for ch, err := range inner {
			ch.Sources, ch.Usage, ch.FinishReason = nil, nil, ""
			if !yield(ch, err) {
				return
			}
		}
	}
}

// modest claims no capability at all for a workspace client, which streams
// and gives message ids and rate-limit state.
type modest struct{ *workspace.Client }

func (modest) Info() chatbot.Info { return chatbot.Info{Provider: "modest"} }

const brokenEnv = "CHATBOTTEST_BROKEN"

// TestBrokenChatbotHelper is not a test of its own: TestRunFailsBrokenStreams
// runs it in a child process, with brokenEnv naming the Chatbot to check.
func TestBrokenChatbotHelper(t *testing.T) {
	if os.Getenv(brokenEnv) == "forgetful" {
		chatbottest.Run(t, func(*testing.T) chatbottest.Target {
			bot := chatbottest.NewBot()
			return chatbottest.Target{Bot: forgetful{bot}, Server: bot}
		})
		return
	}
	wrap := map[string]func(*workspace.Client) chatbot.Chatbot{
		"none":   func(b *workspace.Client) chatbot.Chatbot { return b },
		"deaf":   func(b *workspace.Client) chatbot.Chatbot { return deaf{b} },
		"leaky":  func(b *workspace.Client) chatbot.Chatbot { return leaky{b} },
		"modest": func(b *workspace.Client) chatbot.Chatbot { return modest{b} },
	}[os.Getenv(brokenEnv)]
	if wrap == nil {
		return // run only as a child process
	}
	chatbottest.Run(t, func(t *testing.T) chatbottest.Target {
		srv := workspacetest.NewServer(workspacetest.Config{})
		t.Cleanup(srv.Close)
		bot, err := workspace.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
		require.NoError(t, err)
		return chatbottest.Target{Bot: wrap(bot), Server: srv}
	})
}

// TestRunFailsBrokenStreams runs the suite against Chatbots with the bugs
// it must catch, each in a child process, and checks which subtests fail:
// exactly those that observe the bug. Capabilities that do not match what
// the Chatbot does are bugs too.
func TestRunFailsBrokenStreams(t *testing.T) {
	t.Parallel()
	subtests := []string{"Chat", "StreamMatchesCollect", "Streaming", "ContinueConversation", "StreamIsSingleUse",
		"BreakEarly", "CancelledContext", "CancelWhileWaiting", "CancelDuringStream", "EmptyMessage",
		"MessageLimit", "MessageIDs", "Sources", "Usage", "FinishReasons"}
	tests := []struct {
		broken string
		fail   []string
	}{
		{broken: "none"},
		{broken: "deaf", fail: []string{"CancelWhileWaiting", "CancelDuringStream"}},
		{broken: "leaky", fail: []string{"BreakEarly"}},
		{broken: "forgetful", fail: []string{"Sources", "Usage", "FinishReasons"}},
		{broken: "modest", fail: []string{"Streaming", "MessageIDs"}},
	}
	for _, tt := range tests {
		t.Run(tt.broken, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenChatbotHelper$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.broken)
			out, err := cmd.CombinedOutput()
			if len(tt.fail) == 0 {
				require.NoError(t, err, string(out))
			} else {
				require.Error(t, err, "the suite passed a broken Chatbot:\n%s", out)
			}
			for _, name := range subtests {
				want := "--- PASS: TestBrokenChatbotHelper/" + name + " "
				for _, f := range tt.fail {
					if f == name {
						want = "--- FAIL: TestBrokenChatbotHelper/" + name + " "
					}
				}
				assert.True(t, strings.Contains(string(out), want), "want %q in:\n%s", want, out)
			}
		})
	}
}
