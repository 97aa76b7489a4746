package dialect

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// Event is what one event of a stream (one Server-Sent Event, or one line of
// an AI SDK data stream) means for the reply. The zero value means nothing:
// a keep-alive, or a part the dialect does not use.
type Event struct {
	// Text is a delta of the reply: valid UTF-8 in every JSON dialect, the
	// data byte for byte in the plain dialect.
	Text string

	// Replace is true when Text replaces all the text of the reply so far
	// (Dify message_replace).
	Replace bool

	// Response is a whole reply carried by the event, used only when no
	// delta arrived before the end.
	Response string

	// ConversationID, MessageID and TaskID are ids the event carried; empty
	// when absent. TaskID is the id of the run (Dify task_id, needed to stop
	// it).
	ConversationID string
	MessageID      string
	TaskID         string

	// Sources are the sources the event carried.
	Sources []chatbot.Source

	// Usage is the usage the event reported, or nil.
	Usage *chatbot.Usage

	// FinishReason is why the reply ended, when the event said.
	FinishReason chatbot.FinishReason

	// Actions are the calls the chatbot asks the caller to run, set on the
	// event that ends a reply waiting for them.
	Actions []chatbot.Action

	// Metadata is the event's raw message metadata (AI SDK messageMetadata
	// or metadata, Dify metadata, Flowise metadata), for a provider to map
	// its own fields from; nil when none.
	Metadata json.RawMessage

	// End is true when the event completes the reply: nothing after it
	// belongs to the reply.
	End bool

	// Aborted is true when the server said it stopped the reply before its
	// end (Flowise abort).
	Aborted bool

	// Err is an error event: the stream ends with it, after the text that
	// came before. Its StatusCode is 0; Provider and Code are filled by
	// [Run] from the provider's configuration.
	Err *chatbot.Error

	// ErrStatus is the HTTP status an error event names (Dify "status"),
	// used by [Run] to classify Err; 0 when none.
	ErrStatus int
}

// Dialect names a stream format.
type Dialect uint8

// The dialects. Sniff is the zero value.
const (
	// Sniff detects the dialect of each stream from its first text-bearing
	// event (a JSON object, a JSON string or plain text), for providers that
	// do not document theirs; it reads JSON objects with the tolerant rules
	// workspace documents on its Stream method.
	Sniff Dialect = iota

	// UIMessage is the AI SDK 5+ UI message stream
	// (toUIMessageStreamResponse, Chatbase): JSON parts with a "type", text
	// only from "text-delta", ended by "finish" and "data: [DONE]".
	UIMessage

	// DataStream is the AI SDK 3.x–4.x data stream protocol
	// (toDataStreamResponse): not Server-Sent Events but one "code:JSON"
	// part per line; [Run] frames it by lines.
	DataStream

	// Flowise is Flowise's prediction stream: data:{"event":…,"data":…}.
	Flowise

	// Dify is Dify's chat-messages stream: JSON events with an "event".
	Dify

	// OpenAI is OpenAI chat completion chunks, ended by "data: [DONE]".
	OpenAI

	// Anthropic is the Anthropic Messages stream, ended by message_stop.
	Anthropic

	// Quoted is LangChain.js HttpResponseOutputParser: every text event's
	// data is a JSON string; "event: end" ends the reply.
	Quoted

	// Plain is plain text: every text event's data is the text, byte for
	// byte.
	Plain

	// CustomGPT is CustomGPT.ai's message stream: data-only JSON events
	// with a "status" (progress, finish, error).
	CustomGPT
)

var dialectNames = [...]string{
	Sniff: "sniff", UIMessage: "ai-sdk-ui", DataStream: "ai-sdk-data", Flowise: "flowise", Dify: "dify",
	OpenAI: "openai", Anthropic: "anthropic", Quoted: "quoted", Plain: "plain",
	CustomGPT: "customgpt",
}

// String returns the dialect's name.
func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return "unknown"
}

// unit decodes the events of one dialect. It may keep state across the
// events of one stream in itself and in the [Decoder] it is given.
type unit interface {
	decode(d *Decoder, ev stream.Event, out *Event)
}

// Decoder decodes the events of one stream in one dialect. It holds what
// carries from one event to the next (half a surrogate pair, whether the end
// marker came, the dialect a sniffing decoder fixed, pending tool calls). It
// is not safe for concurrent use; use one per stream.
type Decoder struct {
	dialect Dialect
	unit    unit
	pending joiner
	needEnd bool // the format always ends with a marker: a clean end of body without it is a truncation
	ended   bool // a marker that completes the reply arrived
	out     Event
}

// New returns a decoder for one stream in dialect d, whose response carried
// the headers h (nil is none): an X-Vercel-AI-UI-Message-Stream header
// promises an end marker, whatever the dialect.
func New(d Dialect, h http.Header) *Decoder {
	dec := &Decoder{dialect: d, needEnd: h.Get("X-Vercel-Ai-Ui-Message-Stream") != ""}
	switch d {
	case UIMessage:
		dec.unit, dec.needEnd = &uiMessage{}, true
	case DataStream:
		dec.unit, dec.needEnd = &dataStream{}, true
	case Flowise:
		dec.unit, dec.needEnd = flowise{}, true
	case Dify:
		dec.unit, dec.needEnd = &dify{}, true
	case OpenAI:
		dec.unit, dec.needEnd = openAI{}, true
	case Anthropic:
		dec.unit, dec.needEnd = &anthropic{}, true
	case Quoted:
		dec.unit = quoted{}
	case Plain:
		dec.unit = plain{}
	case CustomGPT:
		dec.unit, dec.needEnd = &customGPT{}, true
	default:
		dec.dialect = Sniff
		dec.unit = &sniffer{}
	}
	return dec
}

// Dialect returns the decoder's dialect: [Sniff] for a sniffing decoder.
func (d *Decoder) Dialect() Dialect { return d.dialect }

// Decode maps one event to its meaning. It never fails: what it cannot read
// means nothing, and an error the stream reports is [Event.Err].
func (d *Decoder) Decode(ev stream.Event) Event {
	d.out = Event{} // in the decoder, so that decoding through the unit interface does not allocate it
	d.unit.decode(d, ev, &d.out)
	if d.out.End {
		d.ended = true
	}
	return d.out
}

// Flush returns what is left of the text at the end of the stream: U+FFFD
// for half a surrogate pair that was never completed, else "".
func (d *Decoder) Flush() string { return d.pending.flush() }

// Truncated reports whether a stream that ended cleanly here was cut before
// the end marker its format always sends.
func (d *Decoder) Truncated() bool { return d.needEnd && !d.ended }

// join joins a text delta onto the halves of a surrogate pair held back.
func (d *Decoder) join(s string) string { return d.pending.join(s) }

// isDone reports whether data is the "[DONE]" sentinel.
func isDone(data string) bool { return strings.TrimSpace(data) == "[DONE]" }

// FinishReason maps a finish reason as the AI SDK and OpenAI write it
// (their spellings agree, modulo case, "-" and "_") onto the SDK's: "stop"
// is [chatbot.FinishComplete], "length" [chatbot.FinishLength], and so on,
// "" [chatbot.FinishUnknown] and any reason it does not know
// [chatbot.FinishOther]. "tool-calls" is [chatbot.FinishActionRequired]
// when pending says calls wait for the caller's results, and
// [chatbot.FinishOther] when none do (the tools ran on the server). The
// streams of every dialect and the JSON replies of the providers that
// speak the AI SDK's words (Chatbase) map them here.
func FinishReason(s string, pending bool) chatbot.FinishReason {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-") {
	case "":
		return chatbot.FinishUnknown
	case "stop", "end-turn", "stop-sequence":
		return chatbot.FinishComplete
	case "length", "max-tokens":
		return chatbot.FinishLength
	case "content-filter", "refusal":
		return chatbot.FinishContentFilter
	case "error":
		return chatbot.FinishError
	case "tool-calls":
		if pending {
			return chatbot.FinishActionRequired
		}
	}
	return chatbot.FinishOther
}
