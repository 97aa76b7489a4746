package dialect

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// customGPT is the [CustomGPT] dialect: data-only Server-Sent Events, each
// a JSON object whose "status" says what it is. Text comes only from
// "progress" ("message", a delta). "finish" ends the reply; what it carries
// is not documented, so it is kept: "citations" (integer ids) become
// sources with those ids, "prompt_id", "message_id" or "id" the message id,
// "session_id" the conversation, and a "message" or "openai_response" is the
// whole reply: the reply when no delta came, the rest of it when it extends
// the deltas, and a replacement of them when it differs. "error" ends the
// stream with "message" or "data.message", its "data.code" (an HTTP
// status) classifying it. Events without a known status carry nothing;
// "data: [DONE]" also ends the reply.
type customGPT struct {
	text strings.Builder // the deltas so far, to compare with a finish's whole reply
}

// customGPTEvent holds every field the dialect reads from an event.
type customGPTEvent struct {
	Status         jsonString      `json:"status"`
	Message        jsonString      `json:"message"`
	OpenAIResponse jsonString      `json:"openai_response"`
	Citations      json.RawMessage `json:"citations"`
	PromptID       json.RawMessage `json:"prompt_id"`
	MessageID      json.RawMessage `json:"message_id"`
	ID             json.RawMessage `json:"id"`
	SessionID      json.RawMessage `json:"session_id"`
	Data           json.RawMessage `json:"data"`
}

func (u *customGPT) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	var e customGPTEvent
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &e) {
		out.End = isDone(trimmed)
		return
	}
	out.ConversationID = FirstText(e.SessionID)
	switch strings.ToLower(strings.TrimSpace(e.Status.s)) {
	case "progress":
		out.Text = d.join(e.Message.s)
		u.text.WriteString(out.Text)
	case "finish":
		out.End = true
		out.MessageID = FirstText(e.PromptID, e.MessageID, e.ID)
		out.Sources = CitationSources(e.Citations)
		u.finish(d, whole(nonEmpty(e.OpenAIResponse, e.Message)), out)
	case "error":
		out.Err, out.ErrStatus = customGPTError(&e)
	}
}

// finish applies the whole reply a finish event carried, if any.
func (u *customGPT) finish(d *Decoder, reply string, out *Event) {
	sofar := u.text.String()
	switch {
	case reply == "" || (reply == sofar && d.pending.high == 0):
		return
	case sofar == "" && d.pending.high == 0:
		out.Response = reply
		return
	}
	// A half of a surrogate pair held back belongs to a character the
	// whole reply has in full.
	d.pending = joiner{}
	if rest, ok := strings.CutPrefix(reply, sofar); ok {
		out.Text = rest
	} else {
		out.Replace, out.Text = true, reply
	}
}

// customGPTError reads an error event: {"status":"error","message":"…"} or
// the shape of CustomGPT's error bodies,
// {"status":"error","data":{"code":429,"message":"…"}}.
func customGPTError(e *customGPTEvent) (*chatbot.Error, int) {
	var data struct {
		Code    json.RawMessage `json:"code"`
		Message jsonString      `json:"message"`
	}
	if len(e.Data) > 0 && e.Data[0] == '{' {
		decodeLoose(string(e.Data), &data)
	}
	msg := whole(nonEmpty(e.Message, data.Message))
	if msg == "" {
		msg = "error event in stream"
	}
	code := FirstText(data.Code)
	status := 0
	var n number
	if n.UnmarshalJSON(data.Code) == nil && n.set && n.f >= 100 && n.f < 600 && n.f == float64(int(n.f)) {
		status = int(n.f)
	}
	return &chatbot.Error{Code: chatbot.CodeUnknown, ProviderCode: code, Message: strings.ToValidUTF8(msg, "\uFFFD")}, status
}

// CitationSources maps a list of CustomGPT citation ids (integers, or
// strings holding them) to sources carrying only those ids; anything else
// in the list is skipped, and a value that is not a list gives none.
func CitationSources(raw json.RawMessage) []chatbot.Source {
	var ids []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &ids) != nil {
		return nil
	}
	var sources []chatbot.Source
	for _, id := range ids {
		if s := FirstText(id); s != "" {
			sources = append(sources, chatbot.Source{ID: s})
		}
	}
	return sources
}
