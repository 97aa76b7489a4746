package dialect

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// uiMessage is the [UIMessage] dialect, the AI SDK 5+ UI message stream:
// each event a JSON part with a "type" (an SSE "event:" field names it when
// "type" is absent). Text comes only from "text-delta"; "start" or
// "message-start" carries the message id; "finish" ends the reply with its
// finishReason and messageMetadata; "message-metadata" carries metadata
// ("metadata" is read as well as "messageMetadata"); "source-url" and
// "source-document" are sources; a tool call ("tool-input-start",
// "-delta", "-available") stays pending until its "tool-output-available"
// or "tool-output-error"; "error" ends the stream with its errorText;
// "data: [DONE]" ends it.
type uiMessage struct {
	calls toolCalls
}

// uiPart holds every field the dialect reads from a part.
type uiPart struct {
	Type            jsonString      `json:"type"`
	Delta           jsonString      `json:"delta"`
	MessageID       json.RawMessage `json:"messageId"`
	FinishReason    jsonString      `json:"finishReason"`
	MessageMetadata json.RawMessage `json:"messageMetadata"`
	Metadata        json.RawMessage `json:"metadata"`
	SourceID        json.RawMessage `json:"sourceId"`
	URL             jsonString      `json:"url"`
	Title           jsonString      `json:"title"`
	Filename        jsonString      `json:"filename"`
	ToolCallID      json.RawMessage `json:"toolCallId"`
	ToolName        jsonString      `json:"toolName"`
	Input           json.RawMessage `json:"input"`
	InputTextDelta  jsonString      `json:"inputTextDelta"`
}

// uiExtraKinds are the parts read by uiMessage.extras.
var uiExtraKinds = map[string]bool{
	"start": true, "message-start": true, "finish": true, "message-metadata": true,
	"source-url": true, "source-document": true, "tool-input-start": true, "tool-input-delta": true,
	"tool-input-available": true, "tool-output-available": true, "tool-output-error": true,
}

func (u *uiMessage) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	if trimmed == "[DONE]" {
		out.End = true
		return
	}
	var p uiPart
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &p) {
		return // not a part: nothing
	}
	kind := p.Type.s
	if kind == "" {
		kind = ev.Type
	}
	switch kind = strings.ToLower(strings.TrimSpace(kind)); kind {
	case "text-delta":
		out.Text = d.join(p.Delta.s)
	case "error":
		out.Err = errorEvent(trimmed)
	case "abort":
		out.Aborted = true
	case "finish":
		out.End = true
		u.extras(&p, kind, trimmed, out)
	default:
		u.extras(&p, kind, trimmed, out)
	}
}

// extras reads from a part of kind what is not text: ids, metadata,
// sources, the finish reason and tool calls.
func (u *uiMessage) extras(p *uiPart, kind, raw string, out *Event) {
	switch kind {
	case "start", "message-start":
		out.MessageID = FirstText(p.MessageID)
	case "source-url":
		out.Sources = []chatbot.Source{{ID: FirstText(p.SourceID), URL: whole(p.URL.s), Title: whole(p.Title.s), Raw: json.RawMessage(raw)}}
	case "source-document":
		out.Sources = []chatbot.Source{{ID: FirstText(p.SourceID), Title: whole(nonEmpty(p.Title, p.Filename)), Raw: json.RawMessage(raw)}}
	case "tool-input-start":
		u.calls.start(FirstText(p.ToolCallID), whole(p.ToolName.s))
	case "tool-input-delta":
		u.calls.delta(FirstText(p.ToolCallID), p.InputTextDelta.s)
	case "tool-input-available":
		u.calls.input(FirstText(p.ToolCallID), whole(p.ToolName.s), p.Input)
	case "tool-output-available", "tool-output-error":
		u.calls.done(FirstText(p.ToolCallID))
	case "finish":
		out.FinishReason = u.calls.finish(p.FinishReason.s, out)
	}
	metadata := p.MessageMetadata
	if len(metadata) == 0 {
		metadata = p.Metadata
	}
	if len(metadata) > 0 && metadata[0] == '{' {
		readMetadata(metadata, out)
	}
}

// readMetadata reads an AI SDK message metadata object: its raw JSON, the
// ids and the usage in it ("usage" or "totalUsage": inputTokens,
// outputTokens, totalTokens, the 4.x promptTokens and completionTokens, and
// Chatbase credits).
func readMetadata(raw json.RawMessage, out *Event) {
	out.Metadata = raw
	var m struct {
		ConversationID json.RawMessage `json:"conversationId"`
		MessageID      json.RawMessage `json:"messageId"`
		Usage          *usageFields    `json:"usage"`
		TotalUsage     *usageFields    `json:"totalUsage"`
	}
	if !decodeLoose(string(raw), &m) {
		return
	}
	if id := FirstText(m.ConversationID); id != "" {
		out.ConversationID = id
	}
	if id := FirstText(m.MessageID); id != "" {
		out.MessageID = id
	}
	u := m.Usage
	if u == nil {
		u = m.TotalUsage
	}
	if u != nil {
		out.Usage = u.usage()
	}
}

// usageFields are the usage counters of the AI SDK (5+ and 4.x names),
// OpenAI, Dify and Chatbase.
type usageFields struct {
	InputTokens      number          `json:"inputTokens"`
	OutputTokens     number          `json:"outputTokens"`
	TotalTokens      number          `json:"totalTokens"`
	PromptTokens     number          `json:"promptTokens"`
	CompletionTokens number          `json:"completionTokens"`
	PromptSnake      number          `json:"prompt_tokens"`
	CompletionSnake  number          `json:"completion_tokens"`
	TotalSnake       number          `json:"total_tokens"`
	InputSnake       number          `json:"input_tokens"`
	OutputSnake      number          `json:"output_tokens"`
	Credits          number          `json:"credits"`
	TotalPrice       json.RawMessage `json:"total_price"`
	Currency         jsonString      `json:"currency"`
}

// usage returns the usage the fields report, or nil when they report none.
func (f *usageFields) usage() *chatbot.Usage {
	u := chatbot.Usage{
		InputTokens:  count(f.InputTokens, f.PromptTokens, f.PromptSnake, f.InputSnake),
		OutputTokens: count(f.OutputTokens, f.CompletionTokens, f.CompletionSnake, f.OutputSnake),
		TotalTokens:  count(f.TotalTokens, f.TotalSnake),
		Price:        FirstText(f.TotalPrice),
		Currency:     whole(f.Currency.s),
	}
	u.Credits = f.Credits.f
	if u == (chatbot.Usage{}) {
		return nil
	}
	return &u
}

// count returns the first of ns that is set, as a whole number of tokens;
// 0 when none is, or when it is negative or absurdly large.
func count(ns ...number) int64 {
	for _, n := range ns {
		if n.set {
			if n.f < 0 || n.f >= 1<<62 {
				return 0
			}
			return int64(n.f)
		}
	}
	return 0
}

// toolCalls are the tool calls of one reply whose output has not arrived:
// the actions a reply that finished for its tool calls waits for.
type toolCalls struct {
	calls  []chatbot.Action
	inputs []string // the input text deltas of calls[i], until its whole input arrives
}

func (t *toolCalls) index(id string) int {
	for i, c := range t.calls {
		if c.ID == id {
			return i
		}
	}
	return -1
}

// start records a call whose input is being streamed.
func (t *toolCalls) start(id, name string) {
	if t.index(id) < 0 {
		t.calls = append(t.calls, chatbot.Action{ID: id, Name: name})
		t.inputs = append(t.inputs, "")
	}
}

// delta appends a piece of a call's input text.
func (t *toolCalls) delta(id, s string) {
	if i := t.index(id); i >= 0 {
		t.inputs[i] += s
	}
}

// input records a call's whole input.
func (t *toolCalls) input(id, name string, input json.RawMessage) {
	i := t.index(id)
	if i < 0 {
		t.start(id, name)
		i = len(t.calls) - 1
	}
	if name != "" {
		t.calls[i].Name = name
	}
	t.calls[i].Input = input
}

// done drops a call whose output arrived: it ran on the server.
func (t *toolCalls) done(id string) {
	if i := t.index(id); i >= 0 {
		t.calls = append(t.calls[:i], t.calls[i+1:]...)
		t.inputs = append(t.inputs[:i], t.inputs[i+1:]...)
	}
}

// finish maps the finish reason of a reply: "tool-calls" with calls still
// pending is [chatbot.FinishActionRequired], and out carries them; with
// none pending (the tools ran on the server) it is [chatbot.FinishOther].
func (t *toolCalls) finish(reason string, out *Event) chatbot.FinishReason {
	if fr := FinishReason(reason, len(t.calls) > 0); fr != chatbot.FinishActionRequired {
		return fr
	}
	for i := range t.calls {
		if t.calls[i].Input == nil && t.inputs[i] != "" && json.Valid([]byte(t.inputs[i])) {
			t.calls[i].Input = json.RawMessage(t.inputs[i])
		}
	}
	out.Actions = t.calls
	t.calls, t.inputs = nil, nil
	return chatbot.FinishActionRequired
}
