package workspace

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// decodedEvent is what one Server-Sent Event means for the reply.
type decodedEvent struct {
	text           string         // a delta of the reply
	response       string         // the whole reply, used only if no delta arrived
	conversationID string         // a harvested id, empty when absent
	messageID      string         // a harvested id, empty when absent
	end            bool           // the reply is complete
	err            *chatbot.Error // an error event: the stream ends with it
}

// endKinds are the event kinds that end a reply.
var endKinds = map[string]bool{
	"done": true, "end": true, "complete": true, "completed": true,
	"finish": true, "message_end": true, "stream_end": true,
}

// decodeEvent maps one event to its meaning, following the rules documented
// on [Client.Stream] (shared/providers/README.md, "workspace"). It never
// fails: what it cannot read is ignored.
func decodeEvent(ev stream.Event) decodedEvent {
	var d decodedEvent
	data := strings.TrimSpace(ev.Data)
	if data == "[DONE]" {
		d.end = true
		return d
	}
	var obj map[string]json.RawMessage
	if !strings.HasPrefix(data, "{") || json.Unmarshal([]byte(data), &obj) != nil {
		// Not a JSON object: the data is itself the text (Flowise's
		// "event: token"), and the SSE event name is the only kind.
		obj = nil
	}
	kind := strings.ToLower(strings.TrimSpace(firstString(obj, "type")))
	if kind == "" {
		kind = strings.ToLower(strings.TrimSpace(firstString(obj, "event")))
	}
	if kind == "" {
		kind = strings.ToLower(strings.TrimSpace(ev.Type))
	}

	var text string
	if obj == nil {
		text = ev.Data
		if s, ok := jsonText(data); ok { // a JSON string: its value
			text = s
		}
	} else {
		text = deltaText(obj)
		nested := object(obj["data"])
		d.conversationID = firstID(obj, nested, "conversationId", "conversation_id")
		d.messageID = firstID(obj, nested, "messageId", "message_id")
		d.response = firstString(obj, "response")
		if d.response == "" {
			d.response = firstString(nested, "response")
		}
	}

	switch {
	case kind == "error":
		d.err = eventError(obj, ev.Data)
	case endKinds[kind]:
		d.end = true
		if d.response == "" && obj != nil {
			d.response = text // a whole reply in a JSON end event's text field
		}
	default:
		d.text = text
	}
	return d
}

// deltaText returns the first present text candidate of a JSON event.
func deltaText(obj map[string]json.RawMessage) string {
	for _, k := range []string{"content", "delta", "token", "text", "chunk", "answer"} {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		if s, ok := jsonText(string(raw)); ok {
			return s
		}
		if k == "delta" {
			if inner := object(raw); inner != nil {
				for _, ik := range []string{"content", "text"} {
					if s, ok := jsonText(string(inner[ik])); ok {
						return s
					}
				}
			}
		}
	}
	var openai struct {
		Choices []struct {
			Delta struct {
				Content *string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
	}
	if raw, ok := obj["choices"]; ok && json.Unmarshal(raw, &openai.Choices) == nil &&
		len(openai.Choices) > 0 && openai.Choices[0].Delta.Content != nil {
		return *openai.Choices[0].Delta.Content
	}
	return ""
}

// eventError builds the typed error an error event ends the stream with.
func eventError(obj map[string]json.RawMessage, data string) *chatbot.Error {
	code := firstString(obj, "code")
	msg := firstString(obj, "error", "message")
	if inner := object(obj["error"]); inner != nil { // {"error":{"code":…,"message":…}}
		if msg == "" {
			msg = firstString(inner, "message", "error")
		}
		if code == "" {
			code = firstString(inner, "code")
		}
	}
	if obj == nil {
		msg = strings.TrimSpace(data)
	}
	if msg == "" {
		msg = "error event in stream"
	}
	return &chatbot.Error{
		Provider:     "workspace",
		Code:         rest.CodeFor(code, 0),
		ProviderCode: code,
		Message:      msg,
	}
}

// object decodes raw as a JSON object, or returns nil.
func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// jsonText decodes s as a JSON string.
func jsonText(s string) (string, bool) {
	var v string
	if !strings.HasPrefix(s, `"`) || json.Unmarshal([]byte(s), &v) != nil {
		return "", false
	}
	return v, true
}

// firstString returns the first of keys whose value in obj is a non-empty
// JSON string (or number, for ids and codes).
func firstString(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		raw := obj[k]
		if s, ok := jsonText(string(raw)); ok && s != "" {
			return s
		}
		var n json.Number
		if len(raw) > 0 && json.Unmarshal(raw, &n) == nil {
			if _, err := strconv.ParseFloat(string(n), 64); err == nil {
				return string(n)
			}
		}
	}
	return ""
}

// firstID returns the first id found under keys, at the top level then in
// the nested "data" object.
func firstID(top, nested map[string]json.RawMessage, keys ...string) string {
	if id := firstString(top, keys...); id != "" {
		return id
	}
	return firstString(nested, keys...)
}
