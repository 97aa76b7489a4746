package dialect

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// openAI is the [OpenAI] dialect, chat completion chunks: the text is
// "choices[0].delta.content"; a "finish_reason" completes the reply (a
// usage-only chunk and "data: [DONE]" may follow); "usage" is read from any
// chunk; "id" is the message id; an "error" object ends the stream.
type openAI struct{}

// openAIChunk holds every field the dialect reads from a chunk.
type openAIChunk struct {
	ID      json.RawMessage `json:"id"`
	Choices []struct {
		Delta struct {
			Content jsonString `json:"content"`
		} `json:"delta"`
		FinishReason jsonString `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageFields    `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func (openAI) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	if trimmed == "[DONE]" {
		out.End = true
		return
	}
	var c openAIChunk
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &c) {
		return
	}
	if (len(c.Error) > 0 && string(c.Error) != "null") || eventName(ev) == "error" {
		out.Err = errorEvent(trimmed)
		return
	}
	out.MessageID = FirstText(c.ID)
	if c.Usage != nil {
		out.Usage = c.Usage.usage()
	}
	if len(c.Choices) == 0 {
		return
	}
	out.Text = d.join(c.Choices[0].Delta.Content.s)
	if c.Choices[0].FinishReason.s != "" {
		d.ended = true
		out.FinishReason = FinishReason(c.Choices[0].FinishReason.s, false)
	}
}

// anthropic is the [Anthropic] dialect, the Messages stream: "message_start"
// carries the message id and the input tokens; text comes from
// "content_block_delta" parts of type "text_delta"; "message_delta" carries
// the stop reason and the output tokens; "message_stop" ends the reply;
// "error" ends the stream.
type anthropic struct {
	usage *chatbot.Usage
}

// anthropicEvent holds every field the dialect reads from an event.
type anthropicEvent struct {
	Type    jsonString `json:"type"`
	Message *struct {
		ID    json.RawMessage `json:"id"`
		Usage *usageFields    `json:"usage"`
	} `json:"message"`
	Delta *struct {
		Type       jsonString `json:"type"`
		Text       jsonString `json:"text"`
		StopReason jsonString `json:"stop_reason"`
	} `json:"delta"`
	Usage *usageFields `json:"usage"`
}

func (a *anthropic) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	var e anthropicEvent
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &e) {
		return
	}
	kind := e.Type.s
	if kind == "" {
		kind = eventName(ev)
	}
	switch kind {
	case "message_start":
		if e.Message != nil {
			out.MessageID = FirstText(e.Message.ID)
			a.add(e.Message.Usage)
		}
	case "content_block_delta":
		if e.Delta != nil && e.Delta.Type.s == "text_delta" {
			out.Text = d.join(e.Delta.Text.s)
		}
	case "message_delta":
		if e.Delta != nil {
			out.FinishReason = FinishReason(e.Delta.StopReason.s, false)
		}
		a.add(e.Usage)
	case "message_stop":
		out.End = true
		out.Usage = a.usage
	case "error":
		out.Err = errorEvent(trimmed)
	}
}

// add merges the counters Anthropic reports in two parts.
func (a *anthropic) add(f *usageFields) {
	if f == nil {
		return
	}
	u := f.usage()
	switch {
	case u == nil:
	case a.usage == nil:
		a.usage = u
	default:
		a.usage.InputTokens = max(a.usage.InputTokens, u.InputTokens)
		a.usage.OutputTokens = max(a.usage.OutputTokens, u.OutputTokens)
	}
}
