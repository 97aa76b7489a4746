package flowise

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// PredictionRequest is one call to a flow: the body of
// POST api/v1/prediction/{chatflowId}, less "streaming", which
// [Client.Predict] and [Client.Stream] set.
type PredictionRequest struct {
	// Question is the user's message, sent as "question". Required: valid
	// UTF-8, no NUL bytes, at most [MaxMessageChars] characters.
	Question string

	// ChatID continues a chat, sent as "chatId". Flowise takes any string:
	// the caller may choose it (a user or ticket id), and an id the server
	// has never seen starts a new chat under it. Empty: the server makes one
	// (a UUID) and returns it in [Prediction.ChatID].
	ChatID string

	// SessionID is the flow's memory session, sent as
	// "overrideConfig.sessionId". Flowise's memory nodes key the history by
	// it, and fall back to the chat id when it is empty, which is what most
	// callers want. Set it to share one memory between several chats; the
	// flow must allow the sessionId override (Flowise 2.x and later refuse
	// overrides the flow's "Override Config" setting does not enable,
	// silently).
	SessionID string

	// History is the conversation so far, oldest first, sent as
	// "history": [{"role": "userMessage"|"apiMessage", "content": …}] and
	// used by flows without a memory node. Only [chatbot.RoleUser] and
	// [chatbot.RoleAssistant] are accepted.
	History []chatbot.Message

	// Vars are the flow's variables ($vars.name in the flow), sent as
	// "overrideConfig.vars"; the flow must allow the override.
	Vars map[string]string

	// OverrideConfig is sent as "overrideConfig" (node input overrides,
	// keyed as the flow's "Override Config" dialog shows them), with
	// SessionID and Vars added under "sessionId" and "vars" when set; those
	// two win over the same keys here. It must encode as JSON.
	OverrideConfig map[string]any

	// LeadEmail is the user's email, sent as "leadEmail", for flows that
	// capture leads.
	LeadEmail string
}

// wireRequest is the JSON body of a prediction call. "streaming" is always
// sent.
type wireRequest struct {
	Question       string         `json:"question"`
	Streaming      bool           `json:"streaming"`
	ChatID         string         `json:"chatId,omitempty"`
	OverrideConfig map[string]any `json:"overrideConfig,omitempty"`
	History        []wireMessage  `json:"history,omitempty"`
	LeadEmail      string         `json:"leadEmail,omitempty"`
}

// wireMessage is one turn of "history".
type wireMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// roles maps the SDK's roles onto Flowise's.
var roles = map[chatbot.Role]string{
	chatbot.RoleUser:      "userMessage",
	chatbot.RoleAssistant: "apiMessage",
}

// Prediction is a flow's answer to [Client.Predict].
type Prediction struct {
	// Text is the answer ("text"). It is empty when the flow answers with
	// structured output only; see JSON.
	Text string

	// JSON is the flow's structured output ("json"), verbatim; nil when the
	// flow sent none.
	JSON json.RawMessage

	Question      string // the question, as the flow saw it
	ChatID        string // the chat the answer belongs to; pass it back as ChatID
	ChatMessageID string // the id of the answer's message
	SessionID     string // the memory session used, when the flow has memory
	MemoryType    string // the flow's memory node, when it has one

	// SourceDocuments are the documents the flow retrieved, in its order.
	SourceDocuments []SourceDocument

	// UsedTools are the tools an agent called.
	UsedTools []UsedTool

	// FollowUpPrompts are the follow-up questions the flow suggests, when
	// the flow has follow-up prompts enabled. Flowise sends them as a
	// JSON-encoded string (in places encoded twice); they are decoded here.
	FollowUpPrompts []string

	// RateLimit is the state of X-RateLimit-* headers, as for every
	// provider; nil behind Flowise's own limiter, which sends the draft
	// RateLimit-* headers instead (see the package doc).
	RateLimit *chatbot.RateLimit

	// Raw is the whole response body, for the fields not mapped here
	// (agentReasoning, artifacts, fileAnnotations, action, flowVariables).
	Raw json.RawMessage

	sources []chatbot.Source // SourceDocuments as sources, with their JSON as received
}

// SourceDocument is a document a flow retrieved: a LangChain document.
type SourceDocument struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
}

// UsedTool is a tool call an agent made.
type UsedTool struct {
	Tool       string          `json:"tool"`
	ToolInput  json.RawMessage `json:"toolInput"`
	ToolOutput json.RawMessage `json:"toolOutput"`
}

// wirePrediction is the JSON of a prediction answer.
type wirePrediction struct {
	Text            *string         `json:"text"` // nil: absent
	JSON            json.RawMessage `json:"json"`
	Question        string          `json:"question"`
	ChatID          string          `json:"chatId"`
	ChatMessageID   string          `json:"chatMessageId"`
	SessionID       string          `json:"sessionId"`
	MemoryType      string          `json:"memoryType"`
	SourceDocuments json.RawMessage `json:"sourceDocuments"`
	UsedTools       []UsedTool      `json:"usedTools"`
	FollowUpPrompts json.RawMessage `json:"followUpPrompts"`
}

// prediction builds the Prediction of a decoded answer.
func (w *wirePrediction) prediction(raw []byte, rl *chatbot.RateLimit) *Prediction {
	p := &Prediction{
		Question: w.Question, ChatID: w.ChatID, ChatMessageID: w.ChatMessageID,
		SessionID: w.SessionID, MemoryType: w.MemoryType, UsedTools: w.UsedTools,
		FollowUpPrompts: followUps(w.FollowUpPrompts), RateLimit: rl, Raw: raw,
		sources: sourcesOf(w.SourceDocuments),
	}
	if w.Text != nil {
		p.Text = *w.Text
	}
	_ = json.Unmarshal(w.SourceDocuments, &p.SourceDocuments) // documents of another shape are left out; sources and Raw keep them
	if len(w.JSON) > 0 && string(w.JSON) != "null" {
		p.JSON = w.JSON
	}
	return p
}

// Predict sends p to the flow and waits for the whole answer, with
// "streaming": false. It is [Client.Chat] with every field of Flowise's
// prediction call, and an answer with every field Flowise returns.
//
// A failure Flowise reports is a [*chatbot.Error]: 401 and 403 (a missing
// or wrong key for a keyed flow, or a domain the flow does not allow)
// [chatbot.ErrUnauthorized] and [chatbot.ErrForbidden], 402 (Flowise Cloud's
// quotas) [chatbot.ErrQuotaExceeded], 404 (no such flow)
// [chatbot.ErrNotFound], 429 (the flow's rate limit) [chatbot.ErrRateLimited]
// with the flow's configured message, 412 [chatbot.ErrInvalidRequest], 500
// [chatbot.ErrServer]. A request refused before sending (empty question, bad
// history role, invalid text) is a *chatbot.Error with
// [chatbot.CodeInvalidRequest], and nothing is sent. A 2xx answer with
// neither "text" nor "json" (a proxy's page, a body that is no prediction)
// is no answer: a *chatbot.Error with [chatbot.CodeUnknown] carrying the
// body, never an empty one (a present, empty text is one).
//
// See https://docs.flowiseai.com/api-reference/prediction.
func (c *Client) Predict(ctx context.Context, p PredictionRequest) (*Prediction, error) {
	call, err := c.predictionCall(p, false)
	if err != nil {
		return nil, err
	}
	var w wirePrediction
	resp, err := c.rc.Do(ctx, call, &w)
	if err != nil {
		return nil, err
	}
	pred := w.prediction(resp.Body, resp.RateLimit)
	if w.Text == nil && pred.JSON == nil {
		return nil, c.rc.MissingReply(resp, "text")
	}
	return pred, nil
}

// Chat sends req.Message to the flow and waits for the whole answer, as
// [Client.Predict] does with:
//
//   - req.ConversationID as "chatId" (any string: Flowise's chat ids are
//     the caller's to choose, and an unknown one starts a new chat under
//     that id; empty lets the server make one, returned as
//     [chatbot.Reply.ConversationID]);
//   - req.History as "history";
//   - req.Metadata as the flow's variables ("overrideConfig.vars");
//   - req.User.Email as "leadEmail"; req.User's ID and Name are not sent
//     (pass them in Metadata for a flow that reads them as variables).
//
// To choose the memory session ("overrideConfig.sessionId") or override
// node inputs, use [Client.Predict] (or [Client.PredictStream]).
//
// The reply's Text is the flow's "text", or, for a flow that answers with
// structured output only, its "json", verbatim. MessageID is
// "chatMessageId", Sources are the "sourceDocuments" (see [Sources]), and
// Raw is the whole body: decode it with [ParsePrediction] for the used
// tools and follow-up prompts. Errors are [Client.Predict]'s.
//
// See https://docs.flowiseai.com/api-reference/prediction.
func (c *Client) Chat(ctx context.Context, req chatbot.Request) (*chatbot.Reply, error) {
	p, err := c.Predict(ctx, predictionFor(req))
	if err != nil {
		return nil, err
	}
	return p.reply(), nil
}

// predictionFor maps a chatbot.Request onto a prediction call.
func predictionFor(req chatbot.Request) PredictionRequest {
	return PredictionRequest{
		Question:  req.Message,
		ChatID:    req.ConversationID,
		History:   req.History,
		Vars:      req.Metadata,
		LeadEmail: req.User.Email,
	}
}

// reply is the chatbot.Reply of a prediction.
func (p *Prediction) reply() *chatbot.Reply {
	text := p.Text
	if text == "" && p.JSON != nil {
		text = string(p.JSON)
	}
	return &chatbot.Reply{
		Text:           text,
		ConversationID: p.ChatID,
		MessageID:      p.ChatMessageID,
		RateLimit:      p.RateLimit,
		Raw:            p.Raw,
		Sources:        p.sources,
	}
}

// ParsePrediction decodes the body of a prediction answer, such as
// [chatbot.Reply.Raw] of a [Client.Chat] reply, into a [Prediction], with
// its follow-up prompts decoded.
func ParsePrediction(raw []byte) (*Prediction, error) {
	var w wirePrediction
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("flowise: decoding prediction: %w", err)
	}
	return w.prediction(raw, nil), nil
}

// predictionCall validates p and builds the prediction call.
func (c *Client) predictionCall(p PredictionRequest, streaming bool) (rest.Call, error) {
	if err := c.rc.CheckMessage(p.Question, MaxMessageChars); err != nil {
		return rest.Call{}, err
	}
	for _, f := range [][2]string{{"chat id", p.ChatID}, {"session id", p.SessionID}, {"lead email", p.LeadEmail}} {
		if err := c.rc.CheckField(f[0], f[1]); err != nil {
			return rest.Call{}, err
		}
	}
	body := wireRequest{Question: p.Question, Streaming: streaming, ChatID: p.ChatID, LeadEmail: p.LeadEmail}
	var err error
	if body.History, err = c.history(p.History); err != nil {
		return rest.Call{}, err
	}
	if body.OverrideConfig, err = c.overrideConfig(p); err != nil {
		return rest.Call{}, err
	}
	call := rest.Call{Method: http.MethodPost, Path: c.predictionPath, Body: body}
	if streaming {
		call.Accept = "text/event-stream, application/json"
	}
	return call, nil
}

// history maps the request's history onto Flowise's roles.
func (c *Client) history(msgs []chatbot.Message) ([]wireMessage, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	out := make([]wireMessage, len(msgs))
	for i, m := range msgs {
		role, ok := roles[m.Role]
		if !ok {
			return nil, c.rc.Invalid(fmt.Sprintf("history[%d]: role %q is not %q or %q", i, m.Role, chatbot.RoleUser, chatbot.RoleAssistant))
		}
		if err := c.rc.CheckField(fmt.Sprintf("history[%d]", i), m.Text); err != nil {
			return nil, err
		}
		out[i] = wireMessage{Role: role, Content: m.Text}
	}
	return out, nil
}

// overrideConfig merges p's overrides, session id and variables. The
// caller's map is not changed.
func (c *Client) overrideConfig(p PredictionRequest) (map[string]any, error) {
	if len(p.OverrideConfig) == 0 && p.SessionID == "" && len(p.Vars) == 0 {
		return nil, nil
	}
	if len(p.OverrideConfig) > 0 {
		if _, err := json.Marshal(p.OverrideConfig); err != nil {
			return nil, c.rc.Invalid("override config does not encode as JSON: " + err.Error())
		}
	}
	m := make(map[string]any, len(p.OverrideConfig)+2)
	for k, v := range p.OverrideConfig {
		m[k] = v
	}
	if p.SessionID != "" {
		m["sessionId"] = p.SessionID
	}
	if len(p.Vars) > 0 {
		for k, v := range p.Vars {
			if err := c.rc.CheckField("variable", k+v); err != nil {
				return nil, err
			}
		}
		m["vars"] = p.Vars
	}
	return m, nil
}
