package workspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
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

// wireEvent holds every field the decoder may read from a JSON event, decoded
// in one pass. A field of an unexpected type (a number where text was
// expected) is left unset by encoding/json, which still fills the others and
// reports an *json.UnmarshalTypeError, so such an event is still read.
type wireEvent struct {
	Type    jsonString      `json:"type"`
	Event   jsonString      `json:"event"`
	Content jsonString      `json:"content"`
	Delta   json.RawMessage `json:"delta"` // a string, or an object with content or text
	Token   jsonString      `json:"token"`
	Text    jsonString      `json:"text"`
	Chunk   jsonString      `json:"chunk"`
	Answer  jsonString      `json:"answer"`
	Choices []struct {
		Delta struct {
			Content jsonString `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Response            jsonString      `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"` // ids: strings or numbers
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
	Data                *nestedData     `json:"data"`
	Code                json.RawMessage `json:"code"`
	Error               json.RawMessage `json:"error"` // a string, or an object with code and message
	Message             jsonString      `json:"message"`
}

// nestedData is the part of an event's "data" object the decoder reads.
type nestedData struct {
	Response            jsonString      `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"`
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
}

// decodeEvent maps one event to its meaning, following the rules documented
// on [Client.Stream]. It never
// fails: what it cannot read is ignored. w is scratch space, reused across
// the events of a stream so that decoding does not allocate it each time.
func decodeEvent(ev stream.Event, w *wireEvent) decodedEvent {
	var d decodedEvent
	data := strings.TrimSpace(ev.Data)
	if data == "[DONE]" {
		d.end = true
		return d
	}
	*w = wireEvent{}
	isObject := false
	if strings.HasPrefix(data, "{") {
		var typeErr *json.UnmarshalTypeError
		err := json.Unmarshal([]byte(data), w)
		isObject = err == nil || errors.As(err, &typeErr)
	}
	if !isObject {
		*w = wireEvent{} // a syntax error may have left fields half set
	}

	kind := nonEmpty(w.Type, w.Event)
	if kind == "" {
		kind = ev.Type
	}
	kind = strings.ToLower(strings.TrimSpace(kind))

	var text string
	if !isObject {
		// Not a JSON object: the data is itself the text (Flowise's
		// "event: token"), and the SSE event name is the only kind.
		text = ev.Data
		if s, ok := jsonText([]byte(data)); ok { // a JSON string: its value
			text = s
		}
	} else {
		text = deltaText(w)
		nested := w.Data
		if nested == nil {
			nested = new(nestedData)
		}
		d.conversationID = firstText(w.ConversationID, w.ConversationIDSnake, nested.ConversationID, nested.ConversationIDSnake)
		d.messageID = firstText(w.MessageID, w.MessageIDSnake, nested.MessageID, nested.MessageIDSnake)
		d.response = nonEmpty(w.Response, nested.Response)
	}

	switch {
	case kind == "error":
		d.err = eventError(w, isObject, ev.Data)
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
	if w.Content.set {
		return w.Content.s
	}
	if len(w.Delta) > 0 {
		if s, ok := jsonText(w.Delta); ok {
			return s
		}
		if w.Delta[0] == '{' { // "delta": {"content"|"text": …}
			var inner struct{ Content, Text jsonString }
			_ = json.Unmarshal(w.Delta, &inner)
			if inner.Content.set {
				return inner.Content.s
			}
			if inner.Text.set {
				return inner.Text.s
			}
		}
	}
	for _, j := range [...]jsonString{w.Token, w.Text, w.Chunk, w.Answer} {
		if j.set {
			return j.s
		}
	}
	if len(w.Choices) > 0 && w.Choices[0].Delta.Content.set {
		return w.Choices[0].Delta.Content.s
	}
	return ""
}

// jsonString is a JSON value read only when it is a string: any other value
// (a number, an object, null) leaves it unset, so the decoder moves on to
// the next candidate field.
type jsonString struct {
	s   string
	set bool
}

func (j *jsonString) UnmarshalJSON(b []byte) error {
	j.s, j.set = jsonText(b)
	return nil
}

// nonEmpty returns the first of js that is set and not empty.
func nonEmpty(js ...jsonString) string {
	for _, j := range js {
		if j.s != "" {
			return j.s
		}
	}
	return ""
}

// eventError builds the typed error an error event ends the stream with.
func eventError(w *wireEvent, isObject bool, data string) *chatbot.Error {
	code := firstText(w.Code)
	msg := firstText(w.Error)
	if msg == "" {
		msg = nonEmpty(w.Message)
	}
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
		Code:         codeFor(code),
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
