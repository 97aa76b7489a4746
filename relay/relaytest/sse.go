package relaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// SSE reads r as the relay's plain Server-Sent Events and yields one chunk
// per text, replace, source and meta event, and a final Done chunk for the
// done event. An error event yields an *[Error]; a stream that ends without
// done or error yields an error wrapping [ErrFormat] (or the read error).
func SSE(r io.Reader) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		var cur chatbot.Chunk
		done := false
		emit := func(c chatbot.Chunk) error {
			c.ConversationID, c.MessageID = cur.ConversationID, cur.MessageID
			if !yield(c, nil) {
				return errStop
			}
			return nil
		}
		err := events(r, func(ev stream.Event) error {
			if done {
				return fmt.Errorf("%w: event %q after done", ErrFormat, ev.Type)
			}
			data := []byte(ev.Data)
			switch ev.Type {
			case "", "message", "replace":
				var t struct {
					Text *string `json:"text"`
				}
				if err := json.Unmarshal(data, &t); err != nil || t.Text == nil {
					return fmt.Errorf("%w: %s event %q", ErrFormat, ev.Type, ev.Data)
				}
				return emit(chatbot.Chunk{Text: *t.Text, Replace: ev.Type == "replace"})
			case "meta":
				var m metadata
				if err := json.Unmarshal(data, &m); err != nil {
					return fmt.Errorf("%w: meta event: %w", ErrFormat, err)
				}
				cur.ConversationID, cur.MessageID = m.ConversationID, m.MessageID
				return emit(chatbot.Chunk{})
			case "source":
				var s source
				if err := json.Unmarshal(data, &s); err != nil {
					return fmt.Errorf("%w: source event: %w", ErrFormat, err)
				}
				return emit(chatbot.Chunk{Sources: []chatbot.Source{s.chunkSource()}})
			case "done":
				var d struct {
					FinishReason string           `json:"finishReason"`
					Usage        *usageJSON       `json:"usage"`
					Actions      []chatbot.Action `json:"actions"`
				}
				if err := json.Unmarshal(data, &d); err != nil {
					return fmt.Errorf("%w: done event: %w", ErrFormat, err)
				}
				done = true
				c := chatbot.Chunk{Done: true, FinishReason: chatbot.FinishReason(d.FinishReason), Actions: d.Actions}
				if d.Usage != nil {
					u := chatbot.Usage(*d.Usage)
					c.Usage = &u
				}
				return emit(c)
			case "error":
				e := &Error{}
				if err := e.decode(data); err != nil {
					return fmt.Errorf("%w: error event %q", ErrFormat, ev.Data)
				}
				return e
			}
			return fmt.Errorf("%w: unknown event %q", ErrFormat, ev.Type)
		})
		switch {
		case err == errStop:
		case err != nil:
			yield(chatbot.Chunk{}, err)
		case !done:
			yield(chatbot.Chunk{}, fmt.Errorf("%w: the stream ended without done", ErrFormat))
		}
	}
}
