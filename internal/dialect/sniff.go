package dialect

import (
	"strings"

	"github.com/chatbot-go/chatbot/stream"
)

// textMode is how the text events of a sniffed stream carry their text. A
// stream keeps the mode of its first text-bearing event.
type textMode uint8

const (
	modeUnknown textMode = iota
	modePlain            // the data of a text event is the text, byte for byte, even when it looks like JSON ([Plain])
	modeQuoted           // the data is a JSON string ([Quoted])
	modeObject           // the data is a JSON object (AI SDK, Dify, Flowise, OpenAI, Anthropic, …)
)

// sniffer is the [Sniff] dialect: it fixes the text mode of a stream with
// its first text-bearing event, then reads text events with the [Plain] or
// [Quoted] unit, or JSON objects with the tolerant rules of objectEvent.
type sniffer struct {
	scratch wireEvent // reused across events so that decoding does not allocate it each time
	mode    textMode
	ui      uiMessage // the tool calls of an AI SDK stream, pending until their output
}

func (s *sniffer) decode(d *Decoder, ev stream.Event, out *Event) {
	data := ev.Data
	trimmed := strings.TrimSpace(data)
	if trimmed == "[DONE]" {
		out.End = true
		return
	}
	name := eventName(ev)
	textEvent := textNames[name]
	switch {
	case textEvent && s.mode == modePlain:
		plain{}.decode(d, ev, out)
		return
	case textEvent && s.mode == modeQuoted:
		quoted{}.decode(d, ev, out)
		return
	}

	w := &s.scratch
	isObject := strings.HasPrefix(trimmed, "{") && decodeObject(trimmed, w)
	if isObject && s.mode == modeUnknown && textEvent && !w.recognised() {
		isObject = false // a plain-text token that looks like a JSON object
	}
	if !isObject {
		switch {
		case name == "error":
			out.Err = eventError(&wireEvent{}, data)
		case endKinds[name]:
			out.End = true
		case name == "abort":
			out.Aborted = true
		case !textEvent || trimmed == "" || s.mode == modeObject:
			// A control event, a keep-alive, or data that is not JSON in
			// a JSON stream: no text (one mode per stream).
		default:
			s.mode = modePlain
			if _, ok := jsonText([]byte(trimmed)); ok {
				s.mode = modeQuoted
				quoted{}.decode(d, ev, out)
				return
			}
			plain{}.decode(d, ev, out)
		}
		return
	}
	// Only a text-bearing event fixes the mode: an event with ids and no
	// text leaves the next event free to be plain text.
	if s.objectEvent(d, w, name, trimmed, out) && textEvent && s.mode == modeUnknown {
		s.mode = modeObject
	}
}

// eventName is the SSE event name, in lower case.
func eventName(ev stream.Event) string { return strings.ToLower(strings.TrimSpace(ev.Type)) }
