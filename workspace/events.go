package workspace

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// decodedEvent is what one Server-Sent Event means for the reply.
type decodedEvent struct {
	text           string         // a delta of the reply, valid UTF-8 (or the raw bytes of a plain-text stream)
	response       string         // the whole reply, used only if no delta arrived
	conversationID string         // a harvested id, empty when absent
	messageID      string         // a harvested id, empty when absent
	end            bool           // the reply is complete
	aborted        bool           // the server stopped the reply before its end (Flowise "abort")
	err            *chatbot.Error // an error event: the stream ends with it
}

// dialect is how the text events of one stream carry their text. A stream
// keeps the dialect of its first text-bearing event.
type dialect uint8

const (
	dialectUnknown dialect = iota
	dialectPlain           // the data of a text event is the text, byte for byte, even when it looks like JSON
	dialectQuoted          // the data is a JSON string (LangChain.js HttpResponseOutputParser)
	dialectObject          // the data is a JSON object (AI SDK, Dify, Flowise, OpenAI, Anthropic, …)
)

// endKinds are the event kinds that end a reply.
var endKinds = map[string]bool{
	"done": true, "end": true, "complete": true, "completed": true,
	"finish": true, "message_end": true, "message_stop": true, "stream_end": true,
}

// textNames are the SSE event names (lower case) whose data may be reply
// text; "" is an event without a name. Other names (metadata, start, ping,
// sourceDocuments…) never carry text.
var textNames = map[string]bool{
	"": true, "message": true, "data": true, "token": true, "delta": true,
	"text": true, "content": true, "chunk": true, "answer": true,
}

// nonTextKinds are the event kinds (lower case) that never carry reply text,
// even when they have a field such as "delta" or "data": the model's private
// reasoning, tool calls and results, sources, files, data parts, steps and
// metadata. Kinds starting with one of nonTextPrefixes are also excluded.
var nonTextKinds = map[string]bool{
	// AI SDK UI message stream
	"start": true, "text-start": true, "text-end": true, "start-step": true, "finish-step": true,
	"message-metadata": true, "file": true, "abort": true,
	// Flowise (start repeats the first token)
	"metadata": true, "thinking": true, "sourcedocuments": true, "artifacts": true, "usedtools": true,
	"calledtools": true, "fileannotations": true, "agentreasoning": true, "nextagent": true,
	"agentflowevent": true, "agentflowexecuteddata": true, "nextagentflow": true, "action": true,
	"usagemetadata": true, "executionend": true,
	// Dify
	"agent_thought": true, "message_file": true, "message_replace": true, "ping": true,
	"workflow_started": true, "workflow_finished": true, "node_started": true, "node_finished": true,
	// Anthropic
	"message_start": true, "message_delta": true, "content_block_start": true, "content_block_stop": true,
}

var nonTextPrefixes = [...]string{"reasoning", "tool", "source", "data-", "tts", "thinking"}

// aiSDKKinds mark an AI SDK UI message stream, which always ends with
// "finish" and "[DONE]".
var aiSDKKinds = map[string]bool{
	"text-start": true, "text-delta": true, "text-end": true, "start-step": true, "finish-step": true,
	"reasoning-start": true, "reasoning-delta": true, "reasoning-end": true,
}

// isNonText reports whether events of kind never carry reply text.
func isNonText(kind string) bool {
	if nonTextKinds[kind] {
		return true
	}
	for _, p := range nonTextPrefixes {
		if strings.HasPrefix(kind, p) {
			return true
		}
	}
	return false
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
		FinishReason stringSet `json:"finish_reason"`
	} `json:"choices"`
	Response            jsonString      `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"` // ids: strings or numbers
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	ChatID              json.RawMessage `json:"chatId"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
	ChatMessageID       json.RawMessage `json:"chatMessageId"`
	Data                *nestedData     `json:"data"`
	Code                json.RawMessage `json:"code"`
	Error               json.RawMessage `json:"error"` // a string, or an object with code and message
	ErrorText           jsonString      `json:"errorText"`
	Message             jsonString      `json:"message"`
}

// recognised reports whether the event has a field of a known format, so
// that a JSON object opening a stream is taken as a JSON event and not as a
// plain-text token that happens to look like JSON ({"ok": true}).
func (w *wireEvent) recognised() bool {
	return w.Type.set || w.Event.set || w.Content.set || len(w.Delta) > 0 || w.Token.set || w.Text.set ||
		w.Chunk.set || w.Answer.set || len(w.Choices) > 0 || w.Response.set || w.Data != nil ||
		len(w.ConversationID) > 0 || len(w.ConversationIDSnake) > 0 || len(w.ChatID) > 0 ||
		len(w.MessageID) > 0 || len(w.MessageIDSnake) > 0 || len(w.ChatMessageID) > 0 ||
		len(w.Error) > 0 || w.ErrorText.set
}

// nestedData is the part of an event's "data" the decoder reads: an object
// with ids or a whole reply, or a string (Flowise's token text, error
// message or "[DONE]").
type nestedData struct {
	str                 jsonString
	Response            jsonString      `json:"response"`
	ConversationID      json.RawMessage `json:"conversationId"`
	ConversationIDSnake json.RawMessage `json:"conversation_id"`
	ChatID              json.RawMessage `json:"chatId"`
	MessageID           json.RawMessage `json:"messageId"`
	MessageIDSnake      json.RawMessage `json:"message_id"`
	ChatMessageID       json.RawMessage `json:"chatMessageId"`
}

func (n *nestedData) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return n.str.UnmarshalJSON(b)
	}
	type plain nestedData // without this method
	var tmp plain
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(b, &tmp); err != nil && !errors.As(err, &typeErr) {
		return nil // not an object: ignored
	}
	*n = nestedData(tmp)
	return nil
}

// eventDecoder decodes the events of one stream, following the rules
// documented on [Client.Stream]. It holds what carries from one event to the
// next: the dialect, whether the format promises an end marker, and half a
// surrogate pair.
type eventDecoder struct {
	scratch wireEvent // reused across events so that decoding does not allocate it each time
	dialect dialect
	needEnd bool // the format always ends with a marker: a clean end of body without it is a truncation
	ended   bool // a marker that completes the reply arrived ([DONE], an OpenAI finish_reason)
	pending joiner
}

// newEventDecoder returns the decoder for a stream with these response
// headers.
func newEventDecoder(h http.Header) *eventDecoder {
	return &eventDecoder{needEnd: h.Get("X-Vercel-Ai-Ui-Message-Stream") != ""}
}

// decode maps one event to its meaning. It never fails: what it cannot read
// is ignored.
func (d *eventDecoder) decode(ev stream.Event) decodedEvent {
	var out decodedEvent
	data := ev.Data
	trimmed := strings.TrimSpace(data)
	if trimmed == "[DONE]" {
		d.ended = true
		out.end = true
		return out
	}
	name := strings.ToLower(strings.TrimSpace(ev.Type))
	textEvent := textNames[name]
	if textEvent && (d.dialect == dialectPlain || d.dialect == dialectQuoted) {
		out.text = d.plainText(data, trimmed)
		return out
	}

	w := &d.scratch
	isObject := strings.HasPrefix(trimmed, "{") && decodeObject(trimmed, w)
	if isObject && d.dialect == dialectUnknown && textEvent && !w.recognised() {
		isObject = false // a plain-text token that looks like a JSON object
	}
	if !isObject {
		switch {
		case name == "error":
			out.err = eventError(&wireEvent{}, data)
		case endKinds[name]:
			out.end = true
		case name == "abort":
			out.aborted = true
		case !textEvent || trimmed == "" || d.dialect == dialectObject:
			// A control event, a keep-alive, or data that is not JSON in
			// a JSON stream: no text (one dialect per stream).
		default:
			d.dialect = dialectPlain
			if _, ok := jsonText([]byte(trimmed)); ok {
				d.dialect = dialectQuoted
				d.needEnd = d.needEnd || name == "data" // LangChain.js always ends with "event: end"
			}
			out.text = d.plainText(data, trimmed)
		}
		return out
	}
	if textEvent && d.dialect == dialectUnknown {
		d.dialect = dialectObject
	}
	d.objectEvent(w, name, &out)
	return out
}

// plainText is the text of a text event in a plain or quoted stream.
func (d *eventDecoder) plainText(data, trimmed string) string {
	if d.dialect == dialectQuoted {
		if s, ok := jsonText([]byte(trimmed)); ok {
			return d.pending.join(s)
		}
	}
	return data
}

// noData stands for the "data" of an event that has none.
var noData nestedData

// objectEvent decodes a JSON event.
func (d *eventDecoder) objectEvent(w *wireEvent, name string, out *decodedEvent) {
	kind := nonEmpty(w.Type, w.Event)
	if kind == "" {
		kind = name
	}
	kind = strings.ToLower(strings.TrimSpace(kind))
	nested := w.Data
	if nested == nil {
		nested = &noData // read only: no allocation per event
	}
	out.conversationID = firstText(w.ConversationID, w.ConversationIDSnake, nested.ConversationID,
		nested.ConversationIDSnake, w.ChatID, nested.ChatID)
	out.messageID = firstText(w.MessageID, w.MessageIDSnake, nested.MessageID, nested.MessageIDSnake,
		w.ChatMessageID, nested.ChatMessageID)
	out.response = whole(nonEmpty(w.Response, nested.Response))
	d.detectFormat(w, kind, nested)

	switch {
	case kind == "error":
		out.err = eventError(w, "")
	case kind != "" && endKinds[kind]:
		d.ended = true
		out.end = true
		if out.response == "" {
			out.response = whole(deltaText(w)) // a whole reply in an end event's text field
		}
	case kind == "abort":
		out.aborted = true
	case kind != "" && isNonText(kind):
	case kind == "token" && nested.str.set: // Flowise: {"event":"token","data":"…"}
		out.text = d.pending.join(nested.str.s)
	default:
		out.text = d.pending.join(deltaText(w))
	}
}

// detectFormat notes the formats that always end with a marker, so that a
// body cut before it is reported as truncated.
func (d *eventDecoder) detectFormat(w *wireEvent, kind string, nested *nestedData) {
	switch {
	case len(w.Choices) > 0: // OpenAI: a finish_reason, then [DONE]
		d.needEnd = true
		if w.Choices[0].FinishReason {
			d.ended = true
		}
	case aiSDKKinds[kind], kind == "message_start", kind == "content_block_delta": // AI SDK, Anthropic
		d.needEnd = true
	case w.Event.set && !w.Type.set && (kind == "message" || kind == "agent_message") && w.Answer.set: // Dify
		d.needEnd = true
	case w.Event.set && !w.Type.set && (kind == "token" || kind == "start") && nested.str.set: // Flowise
		d.needEnd = true
	}
}

// flush returns what is left of the text at the end of the stream: U+FFFD
// for half a surrogate pair that was never completed.
func (d *eventDecoder) flush() string { return d.pending.flush() }

// truncated reports whether a stream that ended cleanly here was cut before
// the end marker its format always sends.
func (d *eventDecoder) truncated() bool { return d.needEnd && !d.ended }

// decodeObject decodes data, which starts with "{", into w, and reports
// whether it is a JSON object.
func decodeObject(data string, w *wireEvent) bool {
	*w = wireEvent{}
	var typeErr *json.UnmarshalTypeError
	err := json.Unmarshal([]byte(data), w)
	if err == nil || errors.As(err, &typeErr) {
		return true
	}
	*w = wireEvent{} // a syntax error may have left fields half set
	return false
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
// the next candidate field. Its text may hold half a surrogate pair (see
// [jsonText]).
type jsonString struct {
	s   string
	set bool
}

func (j *jsonString) UnmarshalJSON(b []byte) error {
	j.s, j.set = jsonText(b)
	return nil
}

// stringSet records only whether a JSON value is a non-empty string (an
// OpenAI finish_reason), keeping the per-event decoding small.
type stringSet bool

func (b *stringSet) UnmarshalJSON(raw []byte) error {
	*b = len(raw) > 2 && raw[0] == '"'
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

// eventError builds the typed error an error event ends the stream with. raw
// is the data of an error event that is not a JSON object, else "".
func eventError(w *wireEvent, raw string) *chatbot.Error {
	code := firstText(w.Code)
	msg := firstText(w.Error)
	if msg == "" {
		msg = whole(nonEmpty(w.ErrorText, w.Message))
	}
	if msg == "" && w.Data != nil {
		msg = whole(w.Data.str.s) // Flowise: {"event":"error","data":"…"}
	}
	if len(w.Error) > 0 && w.Error[0] == '{' { // {"error":{"code":…,"message":…}}
		var inner struct{ Code, Message, Error, Type json.RawMessage }
		if json.Unmarshal(w.Error, &inner) == nil {
			if msg == "" {
				msg = firstText(inner.Message, inner.Error)
			}
			if code == "" {
				code = firstText(inner.Code, inner.Type)
			}
		}
	}
	if raw != "" {
		msg = strings.TrimSpace(raw)
	}
	if msg == "" {
		msg = "error event in stream"
	}
	return &chatbot.Error{
		Provider:     provider,
		Code:         codeFor(code),
		ProviderCode: code,
		Message:      strings.ToValidUTF8(msg, "\uFFFD"),
	}
}

// firstText returns the first of raws that is a non-empty JSON string, or
// a JSON number (for ids and codes), as text.
func firstText(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if s, ok := jsonText(raw); ok {
			if s != "" {
				return whole(s)
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
