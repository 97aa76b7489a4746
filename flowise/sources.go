package flowise

import (
	"encoding/json"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// Sources maps a flow's source documents onto [chatbot.Source]: the page
// content is the Snippet; the metadata's "url", or a "source" that is an
// http(s) URL, is the URL; its "title", or a "source" that is not a URL (a
// file name), is the Title; its "id" is the ID and a numeric "score" the
// Score. Raw is the document's JSON. It returns nil for no documents.
func Sources(docs []SourceDocument) []chatbot.Source {
	if len(docs) == 0 {
		return nil
	}
	out := make([]chatbot.Source, len(docs))
	for i, d := range docs {
		s := chatbot.Source{Snippet: d.PageContent}
		s.Raw, _ = json.Marshal(d)
		src := str(d.Metadata["source"])
		isURL := strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://")
		if s.URL = str(d.Metadata["url"]); s.URL == "" && isURL {
			s.URL = src
		}
		if s.Title = str(d.Metadata["title"]); s.Title == "" && !isURL {
			s.Title = src
		}
		s.ID = str(d.Metadata["id"])
		s.Score, _ = d.Metadata["score"].(float64)
		out[i] = s
	}
	return out
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
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
