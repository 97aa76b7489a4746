package dify

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// kind is what one Server-Sent Event of a Dify stream means for the reply.
type kind uint8

const (
	kindOther     kind = iota // progress (agent_thought, workflow_*, node_*, tts_*, …): never text
	kindKeepAlive             // "event: ping": no content, and no sign of progress
	kindText                  // a delta of the answer (message, agent_message, text_chunk)
	kindReplace               // message_replace: the whole answer so far is replaced
	kindEnd                   // message_end: the reply is complete
	kindError                 // error: the run failed after the 200
)

// event is one decoded Dify event.
type event struct {
	kind           kind
	text           string
	taskID         string
	conversationID string
	messageID      string
	meta           metadata       // kindEnd
	err            *chatbot.Error // kindError
}

// wireEvent is every field of a Dify event the SDK reads, decoded in one
// pass. Fields of an unexpected type are left unset (encoding/json fills
// the others and reports the first such error, which decode ignores).
type wireEvent struct {
	chatResponse
	Data    json.RawMessage `json:"data"` // text_chunk: {"text": …}
	Status  json.RawMessage `json:"status"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// decode reads one event. The kind is the JSON "event" field; an event
// named ping by its SSE "event:" line, or with no data at all, is a
// keep-alive. Data that is not a JSON object is progress of an unknown
// kind, never text.
func decode(ev stream.Event) event {
	data := strings.TrimSpace(ev.Data)
	if ev.Type == "ping" || data == "" {
		return event{kind: kindKeepAlive}
	}
	var w wireEvent
	if err := json.Unmarshal([]byte(data), &w); err != nil && w.Event == "" {
		return event{kind: kindOther}
	}
	out := event{taskID: w.TaskID, conversationID: w.ConversationID, messageID: w.MessageID}
	switch w.Event {
	case "ping":
		out.kind = kindKeepAlive
	case "message", "agent_message":
		out.kind, out.text = kindText, w.Answer
		out.messageID = w.messageID()
	case "text_chunk":
		var d struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(w.Data, &d)
		out.kind, out.text = kindText, d.Text
	case "message_replace":
		out.kind, out.text = kindReplace, w.Answer
		out.messageID = w.messageID()
	case "message_end":
		out.kind, out.meta = kindEnd, w.Metadata
		out.messageID = w.messageID()
	case "error":
		out.kind = kindError
		status, _ := strconv.Atoi(strings.Trim(string(w.Status), `"`))
		out.err = &chatbot.Error{
			Provider:     provider,
			Code:         codeFor(w.Code, status),
			ProviderCode: w.Code,
			Message:      w.Message,
			Body:         []byte(data),
		}
	}
	return out
}
