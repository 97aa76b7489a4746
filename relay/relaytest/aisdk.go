package relaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// part is one part of the UI message stream protocol, the fields the relay
// writes.
type part struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Delta            string          `json:"delta"`
	MessageID        string          `json:"messageId"`
	Metadata         *metadata       `json:"messageMetadata"`
	FinishReason     string          `json:"finishReason"`
	ErrorText        string          `json:"errorText"`
	SourceID         string          `json:"sourceId"`
	URL              string          `json:"url"`
	Title            string          `json:"title"`
	ToolCallID       string          `json:"toolCallId"`
	ToolName         string          `json:"toolName"`
	Input            json.RawMessage `json:"input"`
	ProviderMetadata struct {
		Chatbot *source `json:"chatbot"`
	} `json:"providerMetadata"`
}

// AISDK reads r as the relay's AI SDK UI message stream and yields the
// chunks it carried: one per text-delta (Replace set on the first delta of
// a text part after the first), one per source, one per metadata change,
// and a final Done chunk with the finish reason, usage and actions when the
// finish part and [DONE] arrived. An error part yields an *[Error]; a
// stream that ends otherwise yields an error wrapping [ErrFormat] or the
// read error. It checks that text deltas belong to the open text part, as
// the AI SDK does.
func AISDK(r io.Reader) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		var (
			cur      chatbot.Chunk // ids carried on every chunk once known
			open     string
			parts    int
			replace  bool
			started  bool
			final    *chatbot.Chunk
			finished bool
		)
		emit := func(c chatbot.Chunk) error {
			c.ConversationID, c.MessageID = cur.ConversationID, cur.MessageID
			if !yield(c, nil) {
				return errStop
			}
			return nil
		}
		meta := func(m *metadata) {
			if m == nil {
				return
			}
			if m.ConversationID != "" {
				cur.ConversationID = m.ConversationID
			}
			if m.MessageID != "" {
				cur.MessageID = m.MessageID
			}
		}
		err := events(r, func(ev stream.Event) error {
			if finished {
				return fmt.Errorf("%w: event after [DONE]", ErrFormat)
			}
			if ev.Data == "[DONE]" {
				finished = true
				return nil
			}
			var p part
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
				return fmt.Errorf("%w: %w", ErrFormat, err)
			}
			if !started && p.Type != "start" {
				return fmt.Errorf("%w: %q before start", ErrFormat, p.Type)
			}
			switch p.Type {
			case "start":
				started = true
				if p.MessageID != "" {
					cur.MessageID = p.MessageID
				}
				meta(p.Metadata)
			case "message-metadata":
				meta(p.Metadata)
				return emit(chatbot.Chunk{})
			case "text-start":
				if open != "" {
					return fmt.Errorf("%w: text-start inside text part %q", ErrFormat, open)
				}
				open, replace = p.ID, parts > 0
				parts++
				if replace {
					return emit(chatbot.Chunk{Replace: true})
				}
			case "text-delta":
				if p.ID != open {
					return fmt.Errorf("%w: text-delta for text part %q, not the open %q", ErrFormat, p.ID, open)
				}
				return emit(chatbot.Chunk{Text: p.Delta})
			case "text-end":
				if p.ID != open {
					return fmt.Errorf("%w: text-end for text part %q, not the open %q", ErrFormat, p.ID, open)
				}
				open = ""
			case "source-url", "source-document":
				s := chatbot.Source{ID: p.SourceID, Title: p.Title, URL: p.URL}
				if m := p.ProviderMetadata.Chatbot; m != nil {
					s = m.chunkSource()
				}
				return emit(chatbot.Chunk{Sources: []chatbot.Source{s}})
			case "tool-input-available":
				if final == nil {
					final = &chatbot.Chunk{}
				}
				final.Actions = append(final.Actions, chatbot.Action{ID: p.ToolCallID, Name: p.ToolName, Input: p.Input})
			case "finish":
				if final == nil {
					final = &chatbot.Chunk{}
				}
				final.Done = true
				if m := p.Metadata; m != nil {
					final.FinishReason, final.Usage = chatbot.FinishReason(m.FinishReason), m.Usage
				}
			case "error":
				e := &Error{}
				if err := e.decode([]byte(p.ErrorText)); err != nil {
					return fmt.Errorf("%w: errorText %q", ErrFormat, p.ErrorText)
				}
				return e
			default:
				return fmt.Errorf("%w: unknown part %q", ErrFormat, p.Type)
			}
			return nil
		})
		switch {
		case err == errStop:
		case err != nil:
			yield(chatbot.Chunk{}, err)
		case final == nil || !finished:
			yield(chatbot.Chunk{}, fmt.Errorf("%w: the stream ended without finish and [DONE]", ErrFormat))
		default:
			_ = emit(*final)
		}
	}
}
