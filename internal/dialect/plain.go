package dialect

import (
	"strings"

	"github.com/chatbot-go/chatbot/stream"
)

// plain is the [Plain] dialect: the data of a text event is the text, byte
// for byte, even when it looks like JSON. Events named other than the
// textNames carry no text; "[DONE]" or an end name ends the reply; "error"
// and "abort" events end it with an error.
type plain struct{}

func (plain) decode(d *Decoder, ev stream.Event, out *Event) {
	textFraming(d, ev, out, func(data string) string { return data })
}

// quoted is the [Quoted] dialect (LangChain.js HttpResponseOutputParser):
// as [Plain], but the data of a text event is a JSON string, unquoted (data
// that is not one is taken as is). A stream of "event: data" events always
// ends with "event: end".
type quoted struct{}

func (quoted) decode(d *Decoder, ev stream.Event, out *Event) {
	if eventName(ev) == "data" {
		d.needEnd = true
	}
	textFraming(d, ev, out, func(data string) string {
		if s, ok := jsonText([]byte(strings.TrimSpace(data))); ok {
			return d.join(s)
		}
		return data
	})
}

// textFraming decodes an event of a text dialect, whose text events carry
// text(data).
func textFraming(d *Decoder, ev stream.Event, out *Event, text func(data string) string) {
	if isDone(ev.Data) {
		out.End = true
		return
	}
	switch name := eventName(ev); {
	case textNames[name]:
		out.Text = text(ev.Data)
	case name == "error":
		out.Err = errorEvent(ev.Data)
	case endKinds[name]:
		out.End = true
	case name == "abort":
		out.Aborted = true
	}
}
