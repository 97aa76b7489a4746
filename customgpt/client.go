package customgpt

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// provider is the name in this package's errors and [chatbot.Info].
const provider = "customgpt"

// DefaultBaseURL is the base URL a [Client] sends requests to unless
// [chatbot.WithBaseURL] says otherwise.
const DefaultBaseURL = "https://app.customgpt.ai/"

// MaxMessageChars is the longest prompt the SDK sends to CustomGPT, in
// characters (runes, not bytes). CustomGPT publishes no limit of its own;
// this one is far above any real chat turn and catches a file passed by
// mistake before it is uploaded. A longer prompt is refused with
// [chatbot.ErrInvalidRequest] and nothing is sent.
const MaxMessageChars = 100_000

// Client talks to one CustomGPT.ai project (the API's name for an agent).
// It implements [chatbot.Chatbot] and adds the calls of CustomGPT's own API:
// [Client.SendMessage] and [Client.SendMessageStream] with every documented
// field, [Client.CreateConversation], [Client.DeleteConversation], and
// [Client.Citation] and [Client.ResolveSources] to read what a reply's
// citation ids point to.
//
// A Client is safe for concurrent use by multiple goroutines. Its
// configuration is immutable after [NewClient]; its only state is the
// bounded cache of the citations it has read. The zero value is not usable:
// call [NewClient].
type Client struct {
	rc        *rest.Client
	projectID string
	convPath  string // api/v1/projects/{projectId}/conversations, escaped once

	citations citationCache
}

var _ chatbot.Chatbot = (*Client)(nil)

// NewClient returns a client for the project projectID, authenticated with
// apiKey (an API token of the CustomGPT account), sent as
// "Authorization: Bearer <apiKey>". The project id is the number in the
// project's URL and API paths; anything but a positive decimal number is
// refused. Options are the shared ones ([chatbot.WithBaseURL],
// [chatbot.WithMaxRetries], …); by default requests go to [DefaultBaseURL].
//
// NewClient sends nothing and never panics: an empty or malformed key, a
// project id that is not a number, or an invalid option gives a
// [*chatbot.Error] with [chatbot.CodeInvalidRequest]; the key never appears
// in it.
//
// API reference: https://docs.customgpt.ai/reference/i-api-homepage
func NewClient(apiKey, projectID string, opts ...chatbot.Option) (*Client, error) {
	rc, err := rest.New(restConfig, apiKey, opts)
	if err != nil {
		return nil, err
	}
	if !validProjectID(projectID) {
		return nil, rc.Invalid("project id must be a positive decimal number, such as \"1234\"")
	}
	c := &Client{rc: rc, projectID: projectID}
	if c.convPath, err = rc.Path("api/v1/projects/%s/conversations", projectID); err != nil {
		return nil, err
	}
	return c, nil
}

// validProjectID reports whether id is a positive decimal number that fits
// an int64, written without sign, spaces or leading zeros.
func validProjectID(id string) bool {
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == id
}

// restConfig is what the shared HTTP client needs to know about CustomGPT:
// its address, its auth scheme and its errors,
// {"status":"error","url":"…","data":{"code":429,"message":"…"}}.
var restConfig = rest.Config{
	Provider:       provider,
	DefaultBaseURL: DefaultBaseURL,
	AuthScheme:     "Bearer",
	Codes:          codes,
	Classify:       classify,
}

// codes maps CustomGPT's error codes, which are HTTP statuses, for the
// errors a 2xx answer or a stream event reports with one; a 429 is then
// judged by [classify].
var codes = map[string]chatbot.Code{
	"400": chatbot.CodeInvalidRequest,
	"401": chatbot.CodeUnauthorized,
	"403": chatbot.CodeForbidden,
	"404": chatbot.CodeNotFound,
	"429": chatbot.CodeRateLimitExceeded,
	"500": chatbot.CodeServerError,
	"502": chatbot.CodeServerError,
	"503": chatbot.CodeServerError,
	"504": chatbot.CodeServerError,
}

// classify reads CustomGPT's error body, whose message and code sit under
// "data", and makes a 429 [chatbot.CodeQuotaExceeded]: CustomGPT answers
// with it when the account's query credits are exhausted, which no wait
// cures, so it is never retried. A 429 whose message says it is a rate
// limit ("too many requests", "rate limit", "try again") stays
// [chatbot.CodeRateLimitExceeded].
func classify(e *chatbot.Error) {
	if e.Message == "" && len(e.Body) > 0 {
		var body struct {
			Data struct {
				Code    json.RawMessage `json:"code"`
				Message string          `json:"message"`
			} `json:"data"`
		}
		if json.Unmarshal(e.Body, &body) == nil {
			e.Message = strings.TrimSpace(body.Data.Message)
			if e.ProviderCode == "" {
				e.ProviderCode = dialect.FirstText(body.Data.Code)
			}
			if code, ok := codes[e.ProviderCode]; ok && e.StatusCode < 300 {
				e.Code = code // a failure in a 2xx answer: its code is all there is
			}
		}
	}
	if e.Code == chatbot.CodeRateLimitExceeded && !saysRateLimit(e.Message) {
		e.Code = chatbot.CodeQuotaExceeded
	}
}

// saysRateLimit reports whether an error message speaks of a rate limit
// rather than of credits.
func saysRateLimit(msg string) bool {
	m := strings.ToLower(msg)
	if strings.Contains(m, "credit") || strings.Contains(m, "quota") || strings.Contains(m, "exhausted") {
		return false
	}
	return strings.Contains(m, "too many requests") || strings.Contains(m, "rate limit") ||
		strings.Contains(m, "rate-limit") || strings.Contains(m, "try again")
}

// ProjectID returns the id of the project the client talks to.
func (c *Client) ProjectID() string { return c.projectID }

// BaseURL returns the base URL the client's requests are joined onto,
// ending in "/".
func (c *Client) BaseURL() string { return c.rc.BaseURL() }

// Info reports the provider ("customgpt"), the project id and what
// CustomGPT can do, for middleware (see [chatbot.InfoOf]).
func (c *Client) Info() chatbot.Info {
	return chatbot.Info{Provider: provider, ChatbotID: c.projectID, Capabilities: capabilities}
}

// capabilities are CustomGPT's, from its published API reference: streamed
// replies, citations (as ids, see [Client.ResolveSources]), message ids, and
// conversations created before the first message; the history stays on the
// server; no usage, finish reasons or X-RateLimit-* headers; no published
// message limit, so MaxMessageChars is the SDK's own, [MaxMessageChars].
var capabilities = chatbot.Capabilities{
	Streaming:       true,
	Sources:         true,
	MessageIDs:      true,
	Conversations:   chatbot.ConversationCreatedFirst,
	MaxMessageChars: MaxMessageChars,
}

// envelope is CustomGPT's JSON answer: {"status":"success","data":…}.
type envelope[T any] struct {
	Status string `json:"status"`
	Data   T      `json:"data"`
}

// failed reports whether the answer says it failed.
func (e *envelope[T]) failed() bool { return strings.EqualFold(e.Status, "error") }

// do sends call through d and decodes the data of its answer into out. A
// 2xx answer whose status is "error" is a *chatbot.Error.
func do[T any](ctx context.Context, c *Client, d rest.Doer, call rest.Call, out *T) (*rest.Response, error) {
	var env envelope[T]
	resp, err := d.Do(ctx, call, &env)
	if err != nil {
		return nil, err
	}
	if env.failed() {
		return nil, c.rc.ErrorFor(resp)
	}
	*out = env.Data
	return resp, nil
}
