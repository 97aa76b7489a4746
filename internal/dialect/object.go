package dialect

// This file holds the tolerant rules by which [Sniff] reads a JSON object
// event of any dialect: the text candidates, the ids, the kinds that never
// carry text and the kinds that end a reply.

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/chatbot-go/chatbot"
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

// noData stands for the "data" of an event that has none.
var noData nestedData

// objectEvent decodes a JSON event with the tolerant rules of [Sniff] and
// reports whether it carried a text field (the event is text-bearing).
// Parts of the AI SDK, Dify and Flowise that carry sources, usage, finish
// reasons or tool calls are read again by their own unit, through s.
func (s *sniffer) objectEvent(d *Decoder, w *wireEvent, name, data string, out *Event) bool {
	kind := nonEmpty(w.Type, w.Event)
	if kind == "" {
		kind = name
	}
	kind = strings.ToLower(strings.TrimSpace(kind))
	nested := w.Data
	if nested == nil {
		nested = &noData // read only: no allocation per event
	}
	out.ConversationID = FirstText(w.ConversationID, w.ConversationIDSnake, nested.ConversationID,
		nested.ConversationIDSnake, w.ChatID, nested.ChatID)
	out.MessageID = FirstText(w.MessageID, w.MessageIDSnake, nested.MessageID, nested.MessageIDSnake,
		w.ChatMessageID, nested.ChatMessageID)
	out.Response = whole(nonEmpty(w.Response, nested.Response))
	detectFormat(d, w, kind, nested)
	s.extras(w, kind, data, out)

	switch {
	case kind == "error":
		out.Err = eventError(w, "")
	case kind != "" && endKinds[kind]:
		out.End = true
		if out.Response == "" {
			text, _ := deltaText(w)
			out.Response = whole(text) // a whole reply in an end event's text field
		}
	case kind == "abort":
		out.Aborted = true
	case kind != "" && isNonText(kind):
	case kind == "token" && nested.str.set: // Flowise: {"event":"token","data":"…"}
		out.Text = d.join(nested.str.s)
		return true
	default:
		text, ok := deltaText(w)
		out.Text = d.join(text)
		return ok
	}
	return false
}

// extras reads what the tolerant rules do not (sources, usage, finish
// reasons, tool calls, metadata) from the parts of the dialects that carry
// them, with those dialects' own units: AI SDK parts ("type"), Dify's
// message_end and Flowise's sourceDocuments ("event").
func (s *sniffer) extras(w *wireEvent, kind, data string, out *Event) {
	switch {
	case w.Type.set && uiExtraKinds[kind]:
		var p uiPart
		if decodeLoose(data, &p) {
			s.ui.extras(&p, kind, data, out)
		}
	case w.Event.set && !w.Type.set && kind == "message_end":
		var e difyEvent
		if decodeLoose(data, &e) {
			difyEnd(&e, out)
		}
	case w.Event.set && !w.Type.set && kind == "sourcedocuments" && w.Data != nil:
		var e flowiseEvent
		if decodeLoose(data, &e) {
			out.Sources = flowiseSources(e.Data)
		}
	}
}

// detectFormat notes the formats that always end with a marker, so that a
// body cut before it is reported as truncated.
func detectFormat(d *Decoder, w *wireEvent, kind string, nested *nestedData) {
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

// deltaText returns the first present text candidate of a JSON event, and
// whether there was one.
func deltaText(w *wireEvent) (string, bool) {
	if w.Content.set {
		return w.Content.s, true
	}
	if len(w.Delta) > 0 {
		if s, ok := jsonText(w.Delta); ok {
			return s, true
		}
		if w.Delta[0] == '{' { // "delta": {"content"|"text": …}
			var inner struct{ Content, Text jsonString }
			_ = json.Unmarshal(w.Delta, &inner)
			if inner.Content.set {
				return inner.Content.s, true
			}
			if inner.Text.set {
				return inner.Text.s, true
			}
		}
	}
	for _, j := range [...]jsonString{w.Token, w.Text, w.Chunk, w.Answer} {
		if j.set {
			return j.s, true
		}
	}
	if len(w.Choices) > 0 && w.Choices[0].Delta.Content.set {
		return w.Choices[0].Delta.Content.s, true
	}
	return "", false
}

// eventError builds the typed error an error event ends the stream with. raw
// is the data of an error event that is not a JSON object, else "".
func eventError(w *wireEvent, raw string) *chatbot.Error {
	code := FirstText(w.Code)
	msg := FirstText(w.Error)
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
				msg = FirstText(inner.Message, inner.Error)
			}
			if code == "" {
				code = FirstText(inner.Code, inner.Type)
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
		Code:         chatbot.CodeUnknown,
		ProviderCode: code,
		Message:      strings.ToValidUTF8(msg, "\uFFFD"),
	}
}

// errorEvent is the typed error of an error event whose data is data, in
// any dialect: a JSON object is read as [eventError] reads it, anything else
// is the message.
func errorEvent(data string) *chatbot.Error {
	var w wireEvent
	if trimmed := strings.TrimSpace(data); strings.HasPrefix(trimmed, "{") && decodeObject(trimmed, &w) {
		return eventError(&w, "")
	}
	return eventError(&w, data)
}

// decodeLoose decodes the JSON object data into v, tolerating fields of an
// unexpected type, and reports whether data was a JSON object.
func decodeLoose(data string, v any) bool {
	if !strings.HasPrefix(strings.TrimSpace(data), "{") {
		return false
	}
	var typeErr *json.UnmarshalTypeError
	err := json.Unmarshal([]byte(data), v)
	return err == nil || errors.As(err, &typeErr)
}
