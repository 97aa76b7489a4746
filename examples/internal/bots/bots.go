// Package bots is the wiring the examples share: for each provider it builds a
// [chatbot.Chatbot] that talks to the real service when that provider's
// credentials are in the environment, and otherwise to the provider's fake
// (package <provider>/<provider>test) started in-process on 127.0.0.1.
//
// The environment variables, per provider:
//
//	workspace  WORKSPACE_API_KEY, WORKSPACE_CHATBOT_ID
//	           WORKSPACE_BASE_URL (optional: a self-hosted or white-label domain;
//	           default https://pollybot.app/api/v1/)
//	userdesk   USERDESK_API_KEY, USERDESK_CHATBOT_ID
//	stammer    STAMMER_TOKEN, STAMMER_CHATBOT_UUID
//	           STAMMER_BASE_URL (optional: a white-label such as Lety,
//	           https://<agency domain>/en/; default https://app.stammer.ai/en/)
//	sitegpt    SITEGPT_API_KEY, SITEGPT_CHATBOT_ID
//	chatbase   CHATBASE_API_KEY, CHATBASE_AGENT_ID
//	dify       DIFY_API_KEY (a Dify key names its app: there is no chatbot id)
//	           DIFY_BASE_URL (optional: a self-hosted Dify, https://<host>/v1/;
//	           default https://api.dify.ai/v1/)
//	flowise    FLOWISE_CHATFLOW_ID, FLOWISE_BASE_URL (the Flowise server: there
//	           is no default), FLOWISE_API_KEY (optional: a public flow has none)
//	customgpt  CUSTOMGPT_API_KEY, CUSTOMGPT_PROJECT_ID
//
// A provider talks to the real service only when its required variables are
// set; setting some without the others is an error. The
// environment is passed in as a lookup function ([os.LookupEnv] in the
// examples' main), so tests control it.
//
// The fakes answer every message with a short scripted text chosen by
// [DemoAnswer], which the streaming providers (workspace, userdesk, chatbase,
// flowise, dify, customgpt) stream
// word by word with [Config.Pace] between words, so that a demo shows
// streaming without taking long.
package bots

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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

// DefaultPace is the delay between the pieces of a fake's streamed reply that
// the examples use unless told otherwise.
const DefaultPace = 25 * time.Millisecond

// Names returns the provider names in the order the examples use them.
func Names() []string {
	return []string{"workspace", "userdesk", "stammer", "sitegpt", "chatbase", "flowise", "dify", "customgpt"}
}

// LookupEnv looks up an environment variable, like [os.LookupEnv].
type LookupEnv func(key string) (string, bool)

// Env returns a LookupEnv over a map, for tests.
func Env(vars map[string]string) LookupEnv {
	return func(key string) (string, bool) {
		v, ok := vars[key]
		return v, ok
	}
}

// Vars lists the environment variables of one provider.
type Vars struct {
	Key, ID string // both required for the real service, unless KeyOptional; ID is empty for a provider whose key names its chatbot (dify)
	BaseURL string // optional base URL override, unless BaseURLRequired; empty if the provider has none

	KeyOptional     bool // the key may be unset (a Flowise public flow)
	BaseURLRequired bool // the provider has no default host
}

// VarsFor returns the environment variables of provider, and false for an
// unknown provider.
func VarsFor(provider string) (Vars, bool) {
	switch provider {
	case "workspace":
		return Vars{"WORKSPACE_API_KEY", "WORKSPACE_CHATBOT_ID", "WORKSPACE_BASE_URL", false, false}, true
	case "userdesk":
		return Vars{"USERDESK_API_KEY", "USERDESK_CHATBOT_ID", "", false, false}, true
	case "stammer":
		return Vars{"STAMMER_TOKEN", "STAMMER_CHATBOT_UUID", "STAMMER_BASE_URL", false, false}, true
	case "sitegpt":
		return Vars{"SITEGPT_API_KEY", "SITEGPT_CHATBOT_ID", "", false, false}, true
	case "chatbase":
		return Vars{"CHATBASE_API_KEY", "CHATBASE_AGENT_ID", "", false, false}, true
	case "flowise":
		return Vars{"FLOWISE_API_KEY", "FLOWISE_CHATFLOW_ID", "FLOWISE_BASE_URL", true, true}, true
	case "dify":
		return Vars{"DIFY_API_KEY", "", "DIFY_BASE_URL", false, false}, true
	case "customgpt":
		return Vars{"CUSTOMGPT_API_KEY", "CUSTOMGPT_PROJECT_ID", "", false, false}, true
	}
	return Vars{}, false
}

// String returns the variables as the sentence fragment the examples print,
// such as "WORKSPACE_API_KEY and WORKSPACE_CHATBOT_ID, optionally WORKSPACE_BASE_URL,".
func (v Vars) String() string {
	required, optional := []string{v.Key, v.ID}, ""
	switch {
	case v.KeyOptional && v.BaseURLRequired:
		required, optional = []string{v.ID, v.BaseURL}, v.Key
	case v.KeyOptional:
		required, optional = []string{v.ID}, v.Key
	case v.BaseURLRequired:
		required = append(required, v.BaseURL)
	default:
		optional = v.BaseURL
	}
	required = slices.DeleteFunc(required, func(s string) bool { return s == "" })
	s := strings.Join(required, " and ")
	if optional != "" {
		s += ", optionally " + optional + ","
	}
	return s
}

// Config configures [Open] and [OpenAll]. The zero value reads no
// environment (every provider gets its fake) and streams without pauses.
type Config struct {
	// Env looks up the environment; nil means no variable is set.
	Env LookupEnv
	// Pace is the delay between the pieces of a fake's streamed reply
	// (0: none). It does not apply to real services.
	Pace time.Duration
	// Options are passed to every client, after the base URL.
	Options []chatbot.Option
}

// Fake is what the examples and their tests observe of a running fake server;
// every provider's fake implements it.
type Fake interface {
	Count() int
	Connections() int
	Disconnects() <-chan struct{}
}

// Bot is a [chatbot.Chatbot] for one provider, with where it talks to.
type Bot struct {
	chatbot.Chatbot

	// Provider is one of [Names].
	Provider string
	// Fake is the in-process fake the bot talks to, or nil when it talks to
	// the real service.
	Fake Fake
	// Vars are the environment variables that make it talk to the real service.
	Vars Vars
	// BaseURL is the base URL the client uses; empty means the provider's default.
	BaseURL string
}

// Mode returns "fake" or "real".
func (b *Bot) Mode() string {
	if b.Fake != nil {
		return "fake"
	}
	return "real"
}

// Describe says, in one line, what the bot talks to, and for a fake which
// variables make it talk to the real service.
func (b *Bot) Describe() string {
	if b.Fake != nil {
		return fmt.Sprintf("%s: built-in fake (set %s to talk to the real service)", b.Provider, b.Vars)
	}
	where := "the real service"
	if b.BaseURL != "" {
		where += " at " + b.BaseURL
	}
	return fmt.Sprintf("%s: %s", b.Provider, where)
}

// Open returns a Bot for provider and a cleanup function that stops its fake,
// if any. The cleanup must be called when the bot is no longer used; it is a
// no-op for a real service.
func Open(provider string, cfg Config) (*Bot, func(), error) {
	vars, ok := VarsFor(provider)
	if !ok {
		return nil, nil, fmt.Errorf("unknown provider %q (want one of %s)", provider, strings.Join(Names(), ", "))
	}
	lookup := cfg.Env
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	key, _ := lookup(vars.Key)
	var id string
	if vars.ID != "" {
		id, _ = lookup(vars.ID)
	}
	hasID := id != "" || vars.ID == ""
	var baseURL string
	if vars.BaseURL != "" {
		baseURL, _ = lookup(vars.BaseURL)
	}
	switch {
	case hasID && (key != "" || vars.KeyOptional) && vars.BaseURLRequired && baseURL == "":
		return nil, nil, fmt.Errorf("%s: %s is set but %s is not (%s has no default host)", provider, vars.ID, vars.BaseURL, provider)
	case hasID && (key != "" || vars.KeyOptional):
		return openReal(provider, key, id, baseURL, vars, cfg.Options)
	case key != "":
		return nil, nil, fmt.Errorf("%s: %s is set but %s is not", provider, vars.Key, vars.ID)
	case id != "":
		return nil, nil, fmt.Errorf("%s: %s is set but %s is not", provider, vars.ID, vars.Key)
	}
	return openFake(provider, vars, cfg)
}

// OpenAll opens every provider, in the order of [Names], and returns one
// cleanup for all of them.
func OpenAll(cfg Config) ([]*Bot, func(), error) {
	var bots []*Bot
	var cleanups []func()
	cleanup := func() {
		for _, c := range cleanups {
			c()
		}
	}
	for _, name := range Names() {
		b, c, err := Open(name, cfg)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		bots = append(bots, b)
		cleanups = append(cleanups, c)
	}
	return bots, cleanup, nil
}

func openReal(provider, key, id, baseURL string, vars Vars, extra []chatbot.Option) (*Bot, func(), error) {
	var opts []chatbot.Option
	if baseURL != "" {
		opts = append(opts, chatbot.WithBaseURL(baseURL))
	}
	opts = append(opts, chatbot.WithUserAgent("chatbot-go-examples"))
	opts = append(opts, extra...)
	bot, err := newClient(provider, key, id, opts)
	if err != nil {
		return nil, nil, err
	}
	return &Bot{Chatbot: bot, Provider: provider, Vars: vars, BaseURL: baseURL}, func() {}, nil
}

func newClient(provider, key, id string, opts []chatbot.Option) (chatbot.Chatbot, error) {
	switch provider {
	case "workspace":
		return workspace.NewClient(key, id, opts...)
	case "userdesk":
		return userdesk.NewClient(key, id, opts...)
	case "stammer":
		return stammer.NewClient(key, id, opts...)
	case "sitegpt":
		return sitegpt.NewClient(key, id, opts...)
	case "chatbase":
		return chatbase.NewClient(key, id, opts...)
	case "flowise":
		return flowise.NewClient(key, id, opts...)
	case "dify":
		return dify.NewClient(key, opts...)
	case "customgpt":
		return customgpt.NewClient(key, id, opts...)
	}
	return nil, errors.New("unknown provider " + provider)
}

// fake is a started fake server with what the examples need of it: the
// vocabulary every provider fake shares.
type fake interface {
	Fake
	APIKey() string
	SetAnswer(func(message string) string)
	Close()
}

func openFake(provider string, vars Vars, cfg Config) (*Bot, func(), error) {
	var srv fake
	var url string
	switch provider {
	case "workspace":
		s := workspacetest.NewServer(workspacetest.Config{})
		srv, url = s, s.URL
	case "userdesk":
		s := userdesktest.NewServer(userdesktest.Config{})
		srv, url = s, s.URL
	case "stammer":
		s := stammertest.NewServer(stammertest.Config{})
		srv, url = s, s.URL
	case "sitegpt":
		s := sitegpttest.NewServer(sitegpttest.Config{})
		srv, url = s, s.URL
	case "chatbase":
		s := chatbasetest.NewServer(chatbasetest.Config{})
		srv, url = s, s.URL
	case "flowise":
		s := flowisetest.NewServer(flowisetest.Config{})
		srv, url = s, s.URL
	case "dify":
		s := difytest.NewServer(difytest.Config{})
		srv, url = s, s.URL
	case "customgpt":
		s := customgpttest.NewServer(customgpttest.Config{})
		srv, url = s, s.URL
	}
	key, id := srv.APIKey(), ""
	if s, ok := srv.(interface{ ChatbotID() string }); ok { // dify's key names its app
		id = s.ChatbotID()
	}
	if s, ok := srv.(interface{ SetPace(time.Duration) }); ok { // the streaming fakes
		s.SetPace(cfg.Pace)
	}
	srv.SetAnswer(func(message string) string { return DemoAnswer(provider, message) })
	opts := append([]chatbot.Option{chatbot.WithBaseURL(url)}, cfg.Options...)
	client, err := newClient(provider, key, id, opts)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	return &Bot{Chatbot: client, Provider: provider, Fake: srv, Vars: vars, BaseURL: url}, srv.Close, nil
}
