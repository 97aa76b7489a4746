package flowise

import (
	"encoding/json"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/stream"
)

// Sources maps a flow's source documents onto [chatbot.Source], as
// [Client.Chat] and [Client.Stream] do: the page content is the Snippet;
// the metadata's "url", or a "source" that is an http(s) URL, is the URL;
// its "title", or a "source" that is not a URL (a file name), is the Title;
// its "id" is the ID. Raw is the document's JSON. It returns nil for no
// documents.
func Sources(docs []SourceDocument) []chatbot.Source {
	if len(docs) == 0 {
		return nil
	}
	raw, err := json.Marshal(docs)
	if err != nil {
		return nil // metadata that does not encode: nothing decoded from JSON is such
	}
	return sourcesOf(raw)
}

// sourcesOf maps the JSON list of source documents of a JSON answer by the
// rules of the stream's "sourceDocuments" event, so that Chat and Stream
// give the same sources for the same documents.
func sourcesOf(raw json.RawMessage) []chatbot.Source {
	if len(raw) == 0 || raw[0] != '[' {
		return nil
	}
	e := dialect.New(dialect.Flowise, nil).Decode(stream.Event{Data: `{"event":"sourceDocuments","data":` + string(raw) + `}`})
	if len(e.Sources) == 0 {
		return nil
	}
	return e.Sources
}

// maxFollowUpDepth bounds how many times followUpPrompts may be JSON-encoded
// inside itself: Flowise encodes the list once into a string, and its
// prediction answer encodes that string once more.
const maxFollowUpDepth = 3

// followUps decodes "followUpPrompts": a list of strings, or a string that
// holds one as JSON (up to maxFollowUpDepth times). Anything else gives nil;
// the raw body keeps it.
func followUps(raw json.RawMessage) []string {
	for range maxFollowUpDepth + 1 {
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			if len(list) == 0 {
				return nil
			}
			return list
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		raw = json.RawMessage(s)
	}
	return nil
}
