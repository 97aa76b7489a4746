package dialect

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// dify is the [Dify] dialect: JSON events whose kind is "event". Text comes
// from "message" and "agent_message" ("answer") and from a workflow's
// "text_chunk" ("data.text"); "message_replace" replaces the whole answer;
// "message_end" ends the reply with "metadata.usage" and
// "metadata.retriever_resources"; "conversation_id", "message_id" and
// "task_id" are read from every event. A chatflow (advanced-chat) sends
// "workflow_finished" and then "message_end" (Dify's task pipeline publishes
// the message end after the workflow's), a workflow app ends with
// "workflow_finished": a succeeded one makes a clean end of body complete
// without ending the reply there, and after a run stopped through the stop
// endpoint the reply's finish reason is [chatbot.FinishOther], not complete. "error" ("status", "code", "message") ends the stream with
// a typed error. Every other event (agent_thought, message_file,
// tts_message*, workflow_*, node_*, iteration_*, loop_*, "event: ping" with
// no data) carries no text.
type dify struct {
	stopped bool // the workflow_finished of a chatflow said "stopped"
}

// difyEvent holds every field the dialect reads from an event.
type difyEvent struct {
	Event          jsonString      `json:"event"`
	TaskID         json.RawMessage `json:"task_id"`
	ID             json.RawMessage `json:"id"`
	MessageID      json.RawMessage `json:"message_id"`
	ConversationID json.RawMessage `json:"conversation_id"`
	Answer         jsonString      `json:"answer"`
	Status         number          `json:"status"`
	Data           *struct {
		Text   jsonString `json:"text"`
		Status jsonString `json:"status"`
	} `json:"data"`
	Metadata json.RawMessage `json:"metadata"`
}

func (u *dify) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	var e difyEvent
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &e) {
		return // a ping, or not an event
	}
	kind := strings.ToLower(strings.TrimSpace(nonEmpty(e.Event)))
	if kind == "" {
		kind = eventName(ev)
	}
	out.ConversationID = FirstText(e.ConversationID)
	out.TaskID = FirstText(e.TaskID)
	out.MessageID = FirstText(e.MessageID)
	switch kind {
	case "message", "agent_message":
		out.MessageID = FirstText(e.MessageID, e.ID)
		out.Text = d.join(e.Answer.s)
	case "text_chunk":
		if e.Data != nil {
			out.Text = d.join(e.Data.Text.s)
		}
	case "message_replace":
		d.pending = joiner{} // the text a held half belonged to is gone
		out.Replace = true
		out.Text = whole(e.Answer.s)
	case "message_end":
		out.MessageID = FirstText(e.MessageID, e.ID)
		out.End = true
		difyEnd(&e, out)
		if u.stopped {
			out.FinishReason = chatbot.FinishOther
		}
	case "workflow_finished":
		switch {
		case e.Data == nil:
		case e.Data.Status.s == "succeeded":
			d.ended = true
		case e.Data.Status.s == "stopped":
			u.stopped = true
		}
	case "error":
		out.Err = errorEvent(trimmed)
		if s := e.Status.f; e.Status.set && s >= 100 && s < 600 && s == float64(int(s)) {
			out.ErrStatus = int(s)
		}
	}
}

// difyEnd reads the metadata of a message_end event: usage and retriever
// resources.
func difyEnd(e *difyEvent, out *Event) {
	out.FinishReason = chatbot.FinishComplete
	if len(e.Metadata) == 0 || e.Metadata[0] != '{' {
		return
	}
	out.Metadata = e.Metadata
	out.Usage, out.Sources = DifyMetadata(e.Metadata)
}

// DifyMetadata reads the "metadata" of a Dify reply, a message_end event's
// or a blocking answer's: the usage in "usage" (nil when there is none or
// it counts nothing) and the sources in "retriever_resources" (see
// [DifySources]). Metadata that is not a JSON object has neither.
func DifyMetadata(raw json.RawMessage) (*chatbot.Usage, []chatbot.Source) {
	var m struct {
		Usage     *usageFields      `json:"usage"`
		Resources []json.RawMessage `json:"retriever_resources"`
	}
	if !decodeLoose(string(raw), &m) {
		return nil, nil
	}
	var u *chatbot.Usage
	if m.Usage != nil {
		u = m.Usage.usage()
	}
	return u, DifySources(m.Resources)
}

// DifySources maps Dify's retriever resources onto [chatbot.Source]: the
// segment_id (else the document_id) is the ID, the document_name (else a
// "title") the Title, the content the Snippet, and a "url" the URL; Raw is
// the resource as received. A resource that is not an object is skipped;
// no resources give nil.
func DifySources(resources []json.RawMessage) []chatbot.Source {
	var sources []chatbot.Source
	for _, raw := range resources {
		var r struct {
			DocumentName jsonString      `json:"document_name"`
			Title        jsonString      `json:"title"`
			SegmentID    json.RawMessage `json:"segment_id"`
			DocumentID   json.RawMessage `json:"document_id"`
			Content      jsonString      `json:"content"`
			Score        number          `json:"score"`
			URL          jsonString      `json:"url"`
		}
		if !decodeLoose(string(raw), &r) {
			continue
		}
		sources = append(sources, chatbot.Source{
			ID:      FirstText(r.SegmentID, r.DocumentID),
			Title:   whole(nonEmpty(r.DocumentName, r.Title)),
			URL:     whole(r.URL.s),
			Snippet: whole(r.Content.s),
			Score:   r.Score.f,
			Raw:     raw,
		})
	}
	return sources
}
