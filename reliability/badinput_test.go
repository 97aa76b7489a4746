package reliability_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/workspace"
)

// direct starts p's fake and a client talking to it without a proxy.
func direct(t *testing.T, p provider, id string, opts ...chatbot.Option) (*fake, chatbot.Chatbot, error) {
	t.Helper()
	f := p.start(t, "", 1)
	t.Cleanup(f.close)
	if id == "" {
		id = f.id
	}
	bot, err := p.newClient(f.key, id, append([]chatbot.Option{chatbot.WithBaseURL(f.url)}, opts...)...)
	return f, bot, err
}

// basePath is the path of a fake's base URL, ending in "/".
func basePath(t *testing.T, f *fake) string {
	u, err := url.Parse(f.url)
	require.NoError(t, err)
	return strings.TrimSuffix(u.Path, "/") + "/"
}

// requireRefused asserts the SDK refused the call itself: an
// ErrInvalidRequest and nothing sent.
func requireRefused(t *testing.T, f *fake, err error) {
	t.Helper()
	require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 0, apiErr.StatusCode)
	require.Equal(t, 0, f.count(), "nothing is sent for the caller's mistake")
}

// both runs req through Chat and through Stream (collected).
func both(ctx context.Context, bot chatbot.Chatbot, req chatbot.Request) []error {
	_, errChat := bot.Chat(ctx, req)
	_, errStream := chatbot.Collect(bot.Stream(ctx, req))
	return []error{errChat, errStream}
}

func TestBadMessages(t *testing.T) {
	tests := []struct {
		name string
		req  chatbot.Request
	}{
		{"empty", chatbot.Request{Message: ""}},
		{"blank", chatbot.Request{Message: " \t\n "}},
		{"1 MiB", chatbot.Request{Message: strings.Repeat("a", 1<<20)}},
		{"invalid UTF-8", chatbot.Request{Message: "caf\xc3"}},
		{"NUL byte", chatbot.Request{Message: "a\x00b"}},
		{"conversation id invalid UTF-8", chatbot.Request{Message: "hi", ConversationID: "c\xff"}},
		{"conversation id NUL", chatbot.Request{Message: "hi", ConversationID: "c\x00"}},
	}
	for _, p := range providers {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f, bot, err := direct(t, p, "")
				require.NoError(t, err)
				for _, err := range both(t.Context(), bot, tt.req) {
					requireRefused(t, f, err)
				}
			})
		}
	}
}

// hostileIDs are ids that must be escaped into one path segment or refused.
var hostileIDs = []string{"a/b", "../x", "..", ".", "a?b=c", "a#frag", "a b", "50%", "%2e%2e", "a%2Fb", "x/../../admin"}

// requireSafePaths asserts that either the SDK refused the id, or every
// request the fake received went to one of the want patterns (see
// matchPath).
func requireSafePaths(t *testing.T, f *fake, err error, want ...string) {
	t.Helper()
	if errors.Is(err, chatbot.ErrInvalidRequest) && f.count() == 0 {
		return // refused before sending
	}
	require.NotZero(t, f.count(), "unexpected error without a request: %v", err)
	for _, got := range f.paths() {
		require.True(t, slices.ContainsFunc(want, func(w string) bool { return matchPath(w, got) }),
			"the id must stay one escaped path segment: %s is none of %q", got, want)
	}
}

func TestHostileChatbotIDs(t *testing.T) {
	for _, p := range providers {
		if p.noID {
			// Dify's key names its app: there is no chatbot id to put in
			// a path. Its ids in paths are TestHostileResourceIDs'.
			continue
		}
		for _, id := range hostileIDs {
			t.Run(p.name+"/"+id, func(t *testing.T) {
				t.Parallel()
				f, bot, err := direct(t, p, id)
				if err != nil {
					requireRefused(t, f, err)
					return
				}
				for _, err := range both(t.Context(), bot, chatbot.Request{Message: "hi"}) {
					require.Error(t, err, "the fake serves no such chatbot")
					want := []string{basePath(t, f) + p.chatPath(id)}
					if p.extraPaths != nil {
						for _, x := range p.extraPaths(id) {
							want = append(want, basePath(t, f)+x)
						}
					}
					requireSafePaths(t, f, err, want...)
				}
			})
		}
	}
}

// TestHostileResourceIDs passes hostile ids to the typed methods that put
// an id in the path: workspace leads, SiteGPT threads, Stammer, Chatbase
// and CustomGPT conversations, Dify messages.
func TestHostileResourceIDs(t *testing.T) {
	methods := []struct {
		name string
		p    provider
		do   func(t *testing.T, bot chatbot.Chatbot, id string) error
		path func(f *fake, id string) string
	}{
		{"workspace.Lead", byName("workspace"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			_, err := bot.(*workspace.Client).Lead(t.Context(), id)
			return err
		}, func(f *fake, id string) string {
			return "chatbots/" + url.PathEscape(f.id) + "/leads/" + url.PathEscape(id)
		}},
		{"stammer.Conversation", byName("stammer"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			_, err := bot.(*stammer.Client).Conversation(t.Context(), id)
			return err
		}, func(_ *fake, id string) string { return "chatbot/api/v1/conversation/" + url.PathEscape(id) + "/" }},
		{"sitegpt.Thread", byName("sitegpt"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			_, err := bot.(*sitegpt.Client).Thread(t.Context(), id)
			return err
		}, func(f *fake, id string) string {
			return "chatbots/" + url.PathEscape(f.id) + "/threads/" + url.PathEscape(id)
		}},
		{"chatbase.Messages", byName("chatbase"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			for _, err := range bot.(*chatbase.Client).Messages(t.Context(), id, chatbase.ListOptions{}) {
				return err
			}
			return nil
		}, func(f *fake, id string) string {
			return "agents/" + url.PathEscape(f.id) + "/conversations/" + url.PathEscape(id) + "/messages"
		}},
		{"dify.Suggested", byName("dify"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			_, err := bot.(*dify.Client).Suggested(t.Context(), id, "")
			return err
		}, func(_ *fake, id string) string { return "messages/" + url.PathEscape(id) + "/suggested" }},
		{"customgpt.DeleteConversation", byName("customgpt"), func(t *testing.T, bot chatbot.Chatbot, id string) error {
			return bot.(*customgpt.Client).DeleteConversation(t.Context(), id)
		}, func(f *fake, id string) string {
			return "api/v1/projects/" + url.PathEscape(f.id) + "/conversations/" + url.PathEscape(id)
		}},
	}
	for _, m := range methods {
		for _, id := range hostileIDs {
			t.Run(m.name+"/"+id, func(t *testing.T) {
				t.Parallel()
				f, bot, err := direct(t, m.p, "", chatbot.WithMaxRetries(0))
				require.NoError(t, err)
				err = m.do(t, bot, id)
				require.Error(t, err, "no such resource")
				requireSafePaths(t, f, err, basePath(t, f)+m.path(f, id))
			})
		}
	}
}

func TestBadBaseURLs(t *testing.T) {
	bad := []string{
		"", "::not a url", "127.0.0.1:8080", "/relative/", "ftp://127.0.0.1/",
		"http://example.com/", "http://10.0.0.1/", "http://localhost.example.com/",
		"https://user:pass@example.com/", "https://example.com/?q=1", "https://example.com/#f",
		"https://exa mple.com/", "https://%zz/",
	}
	for _, p := range providers {
		for _, raw := range bad {
			t.Run(p.name+"/"+raw, func(t *testing.T) {
				t.Parallel()
				bot, err := p.newClient("key-0123456789", p.id(), chatbot.WithBaseURL(raw))
				require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
				require.Nil(t, bot)
			})
		}
	}
}

func TestBadContexts(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name+"/nil", func(t *testing.T) {
			t.Parallel()
			f, bot, err := direct(t, p, "")
			require.NoError(t, err)
			var nilCtx context.Context
			require.NotPanics(t, func() {
				for _, err := range both(nilCtx, bot, chatbot.Request{Message: "hi"}) {
					assert.Error(t, err)
				}
			})
			require.Equal(t, 0, f.count())
		})
		t.Run(p.name+"/cancelled", func(t *testing.T) {
			t.Parallel()
			f, bot, err := direct(t, p, "")
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			for _, err := range both(ctx, bot, chatbot.Request{Message: "hi"}) {
				require.ErrorIs(t, err, context.Canceled)
			}
			require.Equal(t, 0, f.count())
		})
	}
}
