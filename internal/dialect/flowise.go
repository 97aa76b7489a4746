package dialect

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// flowise is the [Flowise] dialect: data:{"event":…,"data":…} (each event
// preceded by a "message:" line, which is no SSE field and is ignored).
// Text comes only from "token" (the string "data"); "start" repeats the
// first token and is not text; "metadata" carries chatId (the conversation),
// chatMessageId and sessionId; "sourceDocuments" are sources; "error" ends
// the stream with its message; "end" ends the reply and "abort" says the
// server stopped it. Every other event (usedTools, agentReasoning, …) carries
// no text.
type flowise struct{}

// flowiseEvent is one Flowise event.
type flowiseEvent struct {
	Event jsonString      `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func (flowise) decode(d *Decoder, ev stream.Event, out *Event) {
	trimmed := strings.TrimSpace(ev.Data)
	var e flowiseEvent
	if !strings.HasPrefix(trimmed, "{") || !decodeLoose(trimmed, &e) {
		if trimmed == "[DONE]" {
			out.End = true
		}
		return
	}
	kind := strings.ToLower(strings.TrimSpace(e.Event.s))
	if kind == "" {
		kind = eventName(ev)
	}
	switch kind {
	case "token":
		if s, ok := jsonText(e.Data); ok {
			out.Text = d.join(s)
		}
	case "metadata":
		var m struct {
			ChatID        json.RawMessage `json:"chatId"`
			ChatMessageID json.RawMessage `json:"chatMessageId"`
			SessionID     json.RawMessage `json:"sessionId"`
		}
		if len(e.Data) > 0 && e.Data[0] == '{' && decodeLoose(string(e.Data), &m) {
			out.ConversationID = FirstText(m.ChatID, m.SessionID)
			out.MessageID = FirstText(m.ChatMessageID)
			out.Metadata = e.Data
		}
	case "sourcedocuments":
		out.Sources = flowiseSources(e.Data)
	case "error":
		out.Err = errorEvent(trimmed)
	case "end":
		out.End = true
	case "abort":
		out.Aborted = true
	}
}

// flowiseSources reads Flowise source documents: [{pageContent, metadata}].
// The metadata's "url", or its "source" when that is a web address, is the
// URL; its "title", or else a "source" that is not a web address (a file
// name), is the title.
func flowiseSources(raw json.RawMessage) []chatbot.Source {
	var docs []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &docs) != nil {
		return nil
	}
	sources := make([]chatbot.Source, 0, len(docs))
	for _, doc := range docs {
		var s struct {
			PageContent jsonString `json:"pageContent"`
			Metadata    struct {
				ID     json.RawMessage `json:"id"`
				Source jsonString      `json:"source"`
				URL    jsonString      `json:"url"`
				Title  jsonString      `json:"title"`
			} `json:"metadata"`
		}
		if !decodeLoose(string(doc), &s) {
			continue
		}
		src := chatbot.Source{ID: FirstText(s.Metadata.ID), Snippet: whole(s.PageContent.s), Raw: doc,
			URL: whole(s.Metadata.URL.s), Title: whole(s.Metadata.Title.s)}
		if web := strings.HasPrefix(s.Metadata.Source.s, "http://") || strings.HasPrefix(s.Metadata.Source.s, "https://"); web && src.URL == "" {
			src.URL = whole(s.Metadata.Source.s)
		} else if !web && src.Title == "" {
			src.Title = whole(s.Metadata.Source.s)
		}
		sources = append(sources, src)
	}
	return sources
}
