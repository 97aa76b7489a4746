package workspace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// The AI SDK data stream protocol (AI SDK 3.x–4.x, toDataStreamResponse) is
// not Server-Sent Events: a text/plain body with the header
// X-Vercel-AI-Data-Stream: v1 and one part per line, "<code>:<JSON>\n".

// dataPart is what one line of a data stream means for the reply.
type dataPart struct {
	text      string         // "0:" text, possibly holding half a surrogate pair
	messageID string         // "f:" message start
	end       bool           // "d:" finish message
	err       *chatbot.Error // "3:" error
}

// decodeDataPart decodes one line (without its line ending). It never fails:
// a line it cannot read, or a part it does not use (reasoning "g:", data
// "2:", annotations "8:", tool calls "9:" "a:" "b:" "c:", step finish "e:"…),
// means nothing for the reply.
func decodeDataPart(line []byte) dataPart {
	var p dataPart
	code, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(code) != 1 {
		return p
	}
	value = bytes.TrimSpace(value)
	switch code[0] {
	case '0':
		p.text, _ = jsonText(value)
	case '3':
		msg, _ := jsonText(value)
		msg = whole(msg)
		if msg == "" {
			msg = "error part in stream"
		}
		p.err = &chatbot.Error{Provider: provider, Code: chatbot.CodeUnknown, Message: msg}
	case 'd':
		p.end = json.Valid(value)
	case 'f':
		var start struct{ MessageID json.RawMessage }
		if json.Unmarshal(value, &start) == nil {
			p.messageID = firstText(start.MessageID)
		}
	}
	return p
}

// streamDataParts decodes a data stream body into chunks.
func (c *Client) streamDataParts(body *rest.Body, w *rest.ChunkWriter) error {
	lines := newLineReader(body)
	var pending joiner
	for {
		line, err := lines.next()
		if line != nil {
			p := decodeDataPart(line)
			w.SetIDs("", p.messageID)
			switch {
			case p.err != nil:
				w.Text(pending.flush())
				p.err.Message = c.rest.Redact(p.err.Message)
				return p.err
			case p.end:
				delivered, err := finishReply(w, pending.flush(), "")
				if delivered {
					body.Finish()
				}
				return err
			case !w.Text(pending.join(p.text)):
				return nil // the consumer broke out of the loop
			}
		}
		switch {
		case err == io.EOF:
			w.Text(pending.flush())
			return truncated() // every data stream ends with "d:"
		case errors.Is(err, stream.ErrEventTooLarge):
			w.Text(pending.flush())
			return fmt.Errorf("workspace: stream: %w", err)
		case err != nil:
			w.Text(pending.flush())
			return err // the body's own error, already "workspace: stream: …"
		}
	}
}

// lineReader splits a body into lines, whatever the chunking of its reads.
type lineReader struct {
	br   *bufio.Reader
	long []byte // a line longer than the buffer, being assembled
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 32<<10)}
}

// next returns the next line without its "\n" or "\r\n", valid until the
// next call. At the end of the body a last line without its newline is
// returned with io.EOF; a line over [stream.MaxEventSize] is an error
// wrapping [stream.ErrEventTooLarge].
func (l *lineReader) next() ([]byte, error) {
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
