package chatbot_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
	"github.com/chatbot-go/chatbot/dify"
	"github.com/chatbot-go/chatbot/dify/difytest"
	"github.com/chatbot-go/chatbot/flowise"
	"github.com/chatbot-go/chatbot/flowise/flowisetest"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
	"github.com/chatbot-go/chatbot/userdesk"
	"github.com/chatbot-go/chatbot/userdesk/userdesktest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

var updateREADME = flag.Bool("update", false, "rewrite the capability table of README.md from the providers' Info")

// capabilityProviders are the providers of README.md's capability table, in
// its order (the providers table's). Adding a provider is one line here.
func capabilityProviders() []provided {
	return []provided{
		client(stammer.NewClient(stammertest.DefaultAPIKey, stammertest.DefaultChatbotID)),
		client(sitegpt.NewClient(sitegpttest.DefaultAPIKey, sitegpttest.DefaultChatbotID)),
		client(userdesk.NewClient(userdesktest.DefaultAPIKey, userdesktest.DefaultChatbotID)),
		client(workspace.NewClient(workspacetest.DefaultAPIKey, workspacetest.DefaultChatbotID)),
		client(chatbase.NewClient(chatbasetest.DefaultAPIKey, chatbasetest.DefaultAgentID)),
		client(flowise.NewClient(flowisetest.DefaultAPIKey, flowisetest.DefaultChatbotID, chatbot.WithBaseURL("https://flowise.example/"))),
		client(dify.NewClient(difytest.DefaultAPIKey)),
		client(customgpt.NewClient(customgpttest.DefaultAPIKey, customgpttest.DefaultChatbotID)),
	}
}

// provided is a provider client, or the error that made it.
type provided struct {
	bot chatbot.Chatbot
	err error
}

func client[C chatbot.Chatbot](c C, err error) provided { return provided{c, err} }

const (
	capabilitiesStart = "<!-- capabilities:start -->\n"
	capabilitiesEnd   = "<!-- capabilities:end -->\n"
)

// capabilityTable renders the capability table from each provider's
// Info().Capabilities.
func capabilityTable(infos []chatbot.Info) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var b strings.Builder
	b.WriteString("| package | real streaming | sources | usage | finish reasons | message ids | `X-RateLimit-*` headers | history sent | conversation ids | message limit (characters) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, info := range infos {
		c := info.Capabilities
		limit := "none"
		if c.MaxMessageChars > 0 {
			limit = thousands(c.MaxMessageChars)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", info.Provider,
			yes(c.Streaming), yes(c.Sources), yes(c.Usage), yes(c.FinishReasons), yes(c.MessageIDs),
			yes(c.RateLimitHeaders), yes(c.History), c.Conversations, limit)
	}
	return b.String()
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestREADMECapabilities checks that README.md's capability table is the one
// the providers' Capabilities render; with -update it rewrites it.
func TestREADMECapabilities(t *testing.T) {
	var infos []chatbot.Info
	for _, p := range capabilityProviders() {
		if p.err != nil {
			t.Fatalf("NewClient: %v", p.err)
		}
		infos = append(infos, chatbot.InfoOf(p.bot))
	}
	want := capabilityTable(infos)

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, capabilitiesStart)
	end := strings.Index(text, capabilitiesEnd)
	if start < 0 || end < start {
		t.Fatalf("README.md has no %q … %q block", strings.TrimSpace(capabilitiesStart), strings.TrimSpace(capabilitiesEnd))
	}
	got := text[start+len(capabilitiesStart) : end]
	if got == want {
		return
	}
	if *updateREADME {
		text = text[:start+len(capabilitiesStart)] + want + text[end:]
		if err := os.WriteFile("README.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's capability table differs from the providers' Capabilities; "+
		"run go test -run TestREADMECapabilities -update, or paste this between the markers:\n\n%s", want)
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{1: "1", 999: "999", 1000: "1,000", 5000: "5,000", 100_000: "100,000", 1_234_567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q; want %q", n, got, want)
		}
	}
}
