package dialect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stream"
)

// dataStream is the [DataStream] dialect, the AI SDK 3.x–4.x data stream
// protocol (toDataStreamResponse): not Server-Sent Events but a text/plain
// body (header X-Vercel-AI-Data-Stream: v1) of one part per line,
// "<code>:<JSON>"; [Run] gives each line to the decoder as an event's data.
// "0:" is text, and a text part whose value is not a JSON string fails the
// stream, as the AI SDK's reader throws; "3:" is an error; "f:" carries the
// message id; "h:" is a source; "9:" (or "b:", "c:") is a tool call, and
// "a:" its result; "d:" ends the reply with its finishReason and usage.
// Every other part (reasoning "g:", data "2:", annotations "8:", step
// finish "e:"…) and every line that is not a part mean nothing.
type dataStream struct {
	calls toolCalls
}

// dataPart holds every field the dialect reads from a part's value.
type dataPart struct {
	MessageID    json.RawMessage `json:"messageId"`
	FinishReason jsonString      `json:"finishReason"`
	Usage        *usageFields    `json:"usage"`
	ID           json.RawMessage `json:"id"`
	URL          jsonString      `json:"url"`
	Title        jsonString      `json:"title"`
	ToolCallID   json.RawMessage `json:"toolCallId"`
	ToolName     jsonString      `json:"toolName"`
	Args         json.RawMessage `json:"args"`
	ArgsDelta    jsonString      `json:"argsTextDelta"`
}

func (s *dataStream) decode(d *Decoder, ev stream.Event, out *Event) {
	code, value, ok := strings.Cut(ev.Data, ":")
	if !ok || len(code) != 1 {
		return
	}
	value = strings.TrimSpace(value)
	if code == "0" {
		text, ok := jsonText([]byte(value))
		if !ok {
			out.Err = &chatbot.Error{Code: chatbot.CodeUnknown,
				Message: fmt.Sprintf("malformed text part %.64q in the data stream", ev.Data)}
			return
		}
		out.Text = d.join(text)
		return
	}
	if code == "3" {
		msg, _ := jsonText([]byte(value))
		if msg = whole(msg); msg == "" {
			msg = "error part in stream"
		}
		out.Err = &chatbot.Error{Code: chatbot.CodeUnknown, Message: msg}
		return
	}
	var p dataPart
	if !strings.Contains("dfh9bca", code) || !strings.HasPrefix(value, "{") || !decodeLoose(value, &p) {
		return
	}
	switch code {
	case "d":
		out.End = true
		if p.Usage != nil {
			out.Usage = p.Usage.usage()
		}
		out.FinishReason = s.calls.finish(p.FinishReason.s, out)
	case "f":
		out.MessageID = FirstText(p.MessageID)
	case "h":
		out.Sources = []chatbot.Source{{ID: FirstText(p.ID), URL: whole(p.URL.s), Title: whole(p.Title.s),
			Raw: json.RawMessage(value)}}
	case "b":
		s.calls.start(FirstText(p.ToolCallID), whole(p.ToolName.s))
	case "c":
		s.calls.delta(FirstText(p.ToolCallID), p.ArgsDelta.s)
	case "9":
		s.calls.input(FirstText(p.ToolCallID), whole(p.ToolName.s), p.Args)
	case "a":
		s.calls.done(FirstText(p.ToolCallID))
	}
}

// lineReader splits a body into lines, whatever the chunking of its reads.
type lineReader struct {
	br    *bufio.Reader
	long  []byte // a line longer than the buffer, being assembled
	first bool   // the next line is the first
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 32<<10), first: true}
}

// next returns the next line without its "\n" or "\r\n", valid until the
// next call; a byte order mark opening the first line is dropped, as a UTF-8
// decoder drops it. At the end of the body a last line without its newline is
// returned with io.EOF; a line over [stream.MaxEventSize] is an error
// wrapping [stream.ErrEventTooLarge].
func (l *lineReader) next() ([]byte, error) {
	line, err := l.read()
	if l.first {
		l.first = false
		line = bytes.TrimPrefix(line, []byte(bom))
	}
	return line, err
}

// bom is the UTF-8 byte order mark.
const bom = "\uFEFF"

func (l *lineReader) read() ([]byte, error) {
	l.long = l.long[:0]
	for {
		b, err := l.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(l.long)+len(b) > stream.MaxEventSize {
				return nil, fmt.Errorf("%w: a line over %d bytes", stream.ErrEventTooLarge, stream.MaxEventSize)
			}
			l.long = append(l.long, b...)
			continue
		}
		line := b
		if len(l.long) > 0 {
			l.long = append(l.long, b...)
			line = l.long
		}
		if err != nil {
			if len(line) == 0 {
				return nil, err
			}
			return line, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		return line, nil
	}
}
