package workspace

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

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

// wireEvent holds every field the decoder may read from a JSON event, each
// kept raw so that a field of an unexpected type never fails the whole event.
// Decoding into it once is several times cheaper than a map.
type wireEvent struct {
	Type                json.RawMessage `json:"type"`
	Event               json.RawMessage `json:"event"`
	Content             json.RawMessage `json:"content"`
	Delta               json.RawMessage `json:"delta"`
	Token               json.RawMessage `json:"token"`
	Text                json.RawMessage `json:"text"`
	Chunk               json.RawMessage `json:"chunk"`
	Answer              json.RawMessage `json:"answer"`
	Choices             json.RawMessage `json:"choices"`
	Response            json.RawMessage `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"`
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
	Data                json.RawMessage `json:"data"`
	Code                json.RawMessage `json:"code"`
	Error               json.RawMessage `json:"error"`
	Message             json.RawMessage `json:"message"`
}

// nestedData is the part of an event's "data" object the decoder reads.
type nestedData struct {
	Response            json.RawMessage `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"`
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
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
	var w wireEvent
	isObject := strings.HasPrefix(data, "{") && json.Unmarshal([]byte(data), &w) == nil
	// Not a JSON object: the data is itself the text (Flowise's
	// "event: token"), and the SSE event name is the only kind.

	kind := firstText(w.Type, w.Event)
	if kind == "" {
		kind = ev.Type
	}
	kind = strings.ToLower(strings.TrimSpace(kind))

	var text string
	if !isObject {
		text = ev.Data
		if s, ok := jsonText([]byte(data)); ok { // a JSON string: its value
			text = s
		}
	} else {
		text = deltaText(&w)
		var nested nestedData
		if len(w.Data) > 0 && w.Data[0] == '{' {
			_ = json.Unmarshal(w.Data, &nested)
		}
		d.conversationID = firstText(w.ConversationID, w.ConversationIDSnake, nested.ConversationID, nested.ConversationIDSnake)
		d.messageID = firstText(w.MessageID, w.MessageIDSnake, nested.MessageID, nested.MessageIDSnake)
		d.response = firstText(w.Response, nested.Response)
	}

	switch {
	case kind == "error":
		d.err = eventError(&w, isObject, ev.Data)
	case endKinds[kind]:
		d.end = true
		if d.response == "" && isObject {
			d.response = text // a whole reply in a JSON end event's text field
		}
	default:
		d.text = text
	}
	return d
}

// deltaText returns the first present text candidate of a JSON event.
func deltaText(w *wireEvent) string {
	const delta = 1 // index of w.Delta below
	for i, raw := range [...]json.RawMessage{w.Content, w.Delta, w.Token, w.Text, w.Chunk, w.Answer} {
		if len(raw) == 0 {
			continue
		}
		if s, ok := jsonText(raw); ok {
			return s
		}
		if i == delta && raw[0] == '{' { // "delta": {"content"|"text": …}
			var inner struct{ Content, Text json.RawMessage }
			if json.Unmarshal(raw, &inner) == nil {
				for _, r := range [...]json.RawMessage{inner.Content, inner.Text} {
					if s, ok := jsonText(r); ok {
						return s
					}
				}
			}
		}
	}
	if len(w.Choices) > 0 && w.Choices[0] == '[' {
		var choices []struct {
			Delta struct {
				Content *string `json:"content"`
			} `json:"delta"`
		}
		if json.Unmarshal(w.Choices, &choices) == nil && len(choices) > 0 && choices[0].Delta.Content != nil {
			return *choices[0].Delta.Content
		}
	}
	return ""
}

// eventError builds the typed error an error event ends the stream with.
func eventError(w *wireEvent, isObject bool, data string) *chatbot.Error {
	code := firstText(w.Code)
	msg := firstText(w.Error, w.Message)
	if len(w.Error) > 0 && w.Error[0] == '{' { // {"error":{"code":…,"message":…}}
		var inner struct{ Code, Message, Error json.RawMessage }
		if json.Unmarshal(w.Error, &inner) == nil {
			if msg == "" {
				msg = firstText(inner.Message, inner.Error)
			}
			if code == "" {
				code = firstText(inner.Code)
			}
		}
	}
	if !isObject {
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

// jsonText decodes raw as a JSON string. A string without escapes, the
// common case, is taken without running the JSON decoder.
func jsonText(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if body := raw[1 : len(raw)-1]; raw[len(raw)-1] == '"' && bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) && !hasControl(body) {
		return string(body), true
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// hasControl reports a byte JSON forbids unescaped in a string.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' {
			return true
		}
	}
	return false
}

// firstText returns the first of raws that is a non-empty JSON string, or
// a JSON number (for ids and codes), as text.
func firstText(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if s, ok := jsonText(raw); ok {
			if s != "" {
				return s
			}
			continue
		}
		if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
			if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
				return string(raw)
			}
		}
	}
	return ""
}

// firstString is [firstText] over the values of keys in a decoded object.
func firstString(obj map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if s := firstText(obj[k]); s != "" {
			return s
		}
	}
	return ""
}

// object decodes raw as a JSON object, or returns nil.
func object(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}
