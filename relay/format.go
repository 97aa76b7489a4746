package relay

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
)

// encoder appends one format's bytes for each step of a stream. An encoder
// serves one stream and keeps its state (open text part, ids sent).
type encoder interface {
	header(h http.Header)
	start(b []byte, first chatbot.Chunk) []byte
	chunk(b []byte, c chatbot.Chunk) []byte
	end(b []byte) []byte
	fail(b []byte, e errorBody) []byte
	heartbeat() []byte // nil when the format has none
}

func newEncoder(f Format) (encoder, error) {
	switch f {
	case FormatAISDK:
		return &aisdk{}, nil
	case FormatSSE:
		return &plainSSE{}, nil
	case FormatText:
		return &text{}, nil
	}
	return nil, &chatbot.Error{Code: chatbot.CodeInvalidRequest, Message: "relay: unknown format " + strconv.Quote(string(f))}
}

var ping = []byte(": ping\n\n")

// appendData appends one SSE event: "event: <event>" unless event is
// empty, then v as JSON on one data line (JSON escapes every line break).
func appendData(b []byte, event string, v any) []byte {
	if event != "" {
		b = append(b, "event: "...)
		b = append(b, event...)
		b = append(b, '\n')
	}
	data, err := json.Marshal(v)
	if err != nil { // only a json.RawMessage the provider sent can fail
		data = []byte(`null`)
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// appendString appends s as a JSON string, as encoding/json writes it
// (HTML-safe, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD), without
// the allocations of json.Marshal: the text of every chunk goes through it.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			}
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ids tracks the conversation and message ids already sent.
type ids struct{ conversation, message string }

// changed records c's ids and reports whether they differ from those sent.
func (s *ids) changed(c chatbot.Chunk) bool {
	ch := false
	if c.ConversationID != "" && c.ConversationID != s.conversation {
		s.conversation, ch = c.ConversationID, true
	}
	if c.MessageID != "" && c.MessageID != s.message {
		s.message, ch = c.MessageID, true
	}
	return ch
}

// usage is the JSON of a [chatbot.Usage], in both SSE formats.
type usage struct {
	InputTokens  int64   `json:"inputTokens,omitempty"`
	OutputTokens int64   `json:"outputTokens,omitempty"`
	TotalTokens  int64   `json:"totalTokens,omitempty"`
	Credits      float64 `json:"credits,omitempty"`
	Price        string  `json:"price,omitempty"`
	Currency     string  `json:"currency,omitempty"`
}

func usageOf(u *chatbot.Usage) *usage {
	if u == nil {
		return nil
	}
	return &usage{u.InputTokens, u.OutputTokens, u.TotalTokens, u.Credits, u.Price, u.Currency}
}

// source is the JSON of a [chatbot.Source] in [FormatSSE], and of its
// providerMetadata.chatbot in [FormatAISDK].
type source struct {
	ID      string  `json:"id,omitempty"`
	Title   string  `json:"title,omitempty"`
	URL     string  `json:"url,omitempty"`
	Snippet string  `json:"snippet,omitempty"`
	Score   float64 `json:"score,omitempty"`
}

// action is the JSON of a [chatbot.Action] in [FormatSSE].
type action struct {
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input,omitempty"`
}

// ---- FormatAISDK ----

// aisdk writes the UI message stream protocol; see the package
// documentation for the mapping.
type aisdk struct {
	ids    ids
	open   bool // a text part is open
	part   int  // number of the current text part
	finish chatbot.FinishReason
	usage  *chatbot.Usage
	action []chatbot.Action
	srcs   int
}

// metadata is the messageMetadata the relay sends.
type metadata struct {
	ConversationID string `json:"conversationId,omitempty"`
	MessageID      string `json:"messageId,omitempty"`
	FinishReason   string `json:"finishReason,omitempty"`
	Usage          *usage `json:"usage,omitempty"`
}

func (a *aisdk) header(h http.Header) {
	h["Content-Type"] = eventStream
	h["X-Vercel-Ai-Ui-Message-Stream"] = uiStreamV1
}

func (a *aisdk) heartbeat() []byte { return ping }

func (a *aisdk) start(b []byte, first chatbot.Chunk) []byte {
	a.ids.changed(first)
	p := struct {
		Type      string    `json:"type"`
		MessageID string    `json:"messageId,omitempty"`
		Metadata  *metadata `json:"messageMetadata,omitempty"`
	}{Type: "start", MessageID: first.MessageID}
	if a.ids != (ids{}) {
		p.Metadata = &metadata{ConversationID: a.ids.conversation, MessageID: a.ids.message}
	}
	return appendData(b, "", p)
}

func (a *aisdk) textID() string { return "text-" + strconv.Itoa(a.part) }

func (a *aisdk) chunk(b []byte, c chatbot.Chunk) []byte {
	if a.ids.changed(c) {
		b = appendData(b, "", struct {
			Type     string   `json:"type"`
			Metadata metadata `json:"messageMetadata"`
		}{"message-metadata", metadata{ConversationID: a.ids.conversation, MessageID: a.ids.message}})
	}
	if c.Replace && a.open {
		// The protocol cannot take text back: the replacement is a new
		// text part, and a reply's text is its last text part.
		b = a.endText(b)
		a.part++
	}
	if (c.Text != "" || c.Replace) && !a.open {
		a.open = true
		b = appendData(b, "", struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}{"text-start", a.textID()})
	}
	if c.Text != "" {
		b = append(b, `data: {"type":"text-delta","id":"text-`...)
		b = strconv.AppendInt(b, int64(a.part), 10)
		b = append(b, `","delta":`...)
		b = appendString(b, c.Text)
		b = append(b, "}\n\n"...)
	}
	for _, s := range c.Sources {
		b = a.source(b, s)
	}
	if c.Usage != nil {
		a.usage = c.Usage
	}
	if c.FinishReason != "" {
		a.finish = c.FinishReason
	}
	a.action = append(a.action, c.Actions...)
	return b
}

func (a *aisdk) endText(b []byte) []byte {
	a.open = false
	return appendData(b, "", struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}{"text-end", a.textID()})
}

// source writes a source-url part for a source with a URL, else a
// source-document part; the snippet and score ride in providerMetadata.
func (a *aisdk) source(b []byte, s chatbot.Source) []byte {
	a.srcs++
	id := s.ID
	if id == "" {
		id = "source-" + strconv.Itoa(a.srcs)
	}
	type meta struct {
		Chatbot source `json:"chatbot"`
	}
	m := &meta{source{ID: s.ID, Title: s.Title, URL: s.URL, Snippet: s.Snippet, Score: s.Score}}
	if s.URL != "" {
		return appendData(b, "", struct {
			Type     string `json:"type"`
			SourceID string `json:"sourceId"`
			URL      string `json:"url"`
			Title    string `json:"title,omitempty"`
			Meta     *meta  `json:"providerMetadata"`
		}{"source-url", id, s.URL, s.Title, m})
	}
	title := s.Title
	if title == "" {
		title = id
	}
	return appendData(b, "", struct {
		Type      string `json:"type"`
		SourceID  string `json:"sourceId"`
		MediaType string `json:"mediaType"`
		Title     string `json:"title"`
		Meta      *meta  `json:"providerMetadata"`
	}{"source-document", id, "text/plain", title, m})
}

// finishReasons maps the SDK's finish reasons onto the protocol's.
var finishReasons = map[chatbot.FinishReason]string{
	chatbot.FinishComplete:       "stop",
	chatbot.FinishLength:         "length",
	chatbot.FinishContentFilter:  "content-filter",
	chatbot.FinishActionRequired: "tool-calls",
	chatbot.FinishError:          "error",
	chatbot.FinishOther:          "other",
}

func (a *aisdk) end(b []byte) []byte {
	if a.open {
		b = a.endText(b)
	}
	for _, act := range a.action {
		input := act.Input
		if len(input) == 0 {
			input = json.RawMessage(`{}`)
		}
		b = appendData(b, "", struct {
			Type       string          `json:"type"`
			ToolCallID string          `json:"toolCallId"`
			ToolName   string          `json:"toolName"`
			Input      json.RawMessage `json:"input"`
		}{"tool-input-available", act.ID, act.Name, input})
	}
	p := struct {
		Type         string    `json:"type"`
		FinishReason string    `json:"finishReason,omitempty"`
		Metadata     *metadata `json:"messageMetadata,omitempty"`
	}{Type: "finish", FinishReason: finishReasons[a.finish]}
	if a.finish != "" || a.usage != nil {
		p.Metadata = &metadata{FinishReason: string(a.finish), Usage: usageOf(a.usage)}
	}
	b = appendData(b, "", p)
	return append(b, "data: [DONE]\n\n"...)
}

func (a *aisdk) fail(b []byte, e errorBody) []byte {
	if a.open {
		b = a.endText(b)
	}
	text, _ := json.Marshal(e) // strings and an int: cannot fail
	b = appendData(b, "", struct {
		Type      string `json:"type"`
		ErrorText string `json:"errorText"`
	}{"error", string(text)})
	return append(b, "data: [DONE]\n\n"...)
}

// ---- FormatSSE ----

// plainSSE writes this package's own events; see the package documentation.
type plainSSE struct {
	ids    ids
	finish chatbot.FinishReason
	usage  *chatbot.Usage
	action []action
}

func (p *plainSSE) header(h http.Header) { h["Content-Type"] = eventStream }

func (p *plainSSE) heartbeat() []byte { return ping }

func (p *plainSSE) start(b []byte, _ chatbot.Chunk) []byte { return b }

type textData struct {
	Text string `json:"text"`
}

func (p *plainSSE) chunk(b []byte, c chatbot.Chunk) []byte {
	if p.ids.changed(c) {
		b = appendData(b, "meta", metadata{ConversationID: p.ids.conversation, MessageID: p.ids.message})
	}
	switch {
	case c.Replace:
		b = appendData(b, "replace", textData{c.Text})
	case c.Text != "":
		b = append(b, `data: {"text":`...)
		b = appendString(b, c.Text)
		b = append(b, "}\n\n"...)
	}
	for _, s := range c.Sources {
		b = appendData(b, "source", source{ID: s.ID, Title: s.Title, URL: s.URL, Snippet: s.Snippet, Score: s.Score})
	}
	if c.Usage != nil {
		p.usage = c.Usage
	}
	if c.FinishReason != "" {
		p.finish = c.FinishReason
	}
	for _, a := range c.Actions {
		p.action = append(p.action, action(a))
	}
	return b
}

func (p *plainSSE) end(b []byte) []byte {
	return appendData(b, "done", struct {
		FinishReason string   `json:"finishReason,omitempty"`
		Usage        *usage   `json:"usage,omitempty"`
		Actions      []action `json:"actions,omitempty"`
	}{string(p.finish), usageOf(p.usage), p.action})
}

func (p *plainSSE) fail(b []byte, e errorBody) []byte { return appendData(b, "error", e) }

// ---- FormatText ----

// The trailers of [FormatText].
const (
	// TrailerFinish carries the reply's [chatbot.FinishReason] ("complete"
	// when the provider gave none) when the reply was relayed whole.
	TrailerFinish = "Chatbot-Finish"
	// TrailerError carries the error code when the reply failed after its
	// first byte.
	TrailerError = "Chatbot-Error"
)

// text writes the bare reply.
type text struct {
	finish chatbot.FinishReason
	h      http.Header
}

func (t *text) header(h http.Header) {
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Trailer", TrailerFinish+", "+TrailerError)
	t.h = h
}

func (t *text) heartbeat() []byte { return nil }

func (t *text) start(b []byte, _ chatbot.Chunk) []byte { return b }

func (t *text) chunk(b []byte, c chatbot.Chunk) []byte {
	if c.FinishReason != "" {
		t.finish = c.FinishReason
	}
	if c.Replace {
		b = append(b, '\f') // a form feed: forget the text so far
	}
	return append(b, c.Text...)
}

func (t *text) end(b []byte) []byte {
	f := t.finish
	if f == "" {
		f = chatbot.FinishComplete
	}
	t.h.Set(TrailerFinish, string(f))
	return b
}

func (t *text) fail(b []byte, e errorBody) []byte {
	t.h.Set(TrailerError, e.Code)
	return b
}
