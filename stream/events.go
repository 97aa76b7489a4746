package stream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"

	sse "github.com/tmaxmax/go-sse"
)

// MaxEventSize is the largest event, in bytes as framed on the wire, that
// [Events] accepts. A larger event ends the sequence with an error wrapping
// [ErrEventTooLarge].
const MaxEventSize = 4 << 20

// ErrEventTooLarge reports an event over [MaxEventSize].
var ErrEventTooLarge = errors.New("stream: event too large")

// Event is one Server-Sent Event.
type Event struct {
	ID   string // the last event id seen, as the SSE spec defines it
	Type string // the "event:" field; empty when the event had none
	Data string // the "data:" lines joined with "\n"
}

// Events parses r as a Server-Sent Events stream and yields its events in
// order. Comments, "retry:" fields, LF, CRLF and lone CR line endings and a
// leading byte order mark are handled as the SSE specification says,
// whatever the chunking of the reads. An event with a type but no data (such
// as "event: end") is still yielded.
//
// A clean EOF ends the sequence without error. Where the body ends cleanly
// in the middle of its last line, that line is taken as complete (the
// transport already reports a cut body as an error, so a clean end is the
// server's own). A read error from r is yielded as is, last, so that
// errors.Is(err, io.ErrUnexpectedEOF) or the context's error stay visible.
func Events(r io.Reader) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		src := &eofLineReader{r: r}
		for ev, err := range sse.Read(src, &sse.ReadConfig{MaxEventSize: MaxEventSize}) {
			if err != nil {
				yield(Event{}, eventsError(src.err, err))
				return
			}
			if !yield(Event{ID: ev.LastEventID, Type: ev.Type, Data: ev.Data}, nil) {
				return
			}
		}
	}
}

// eventsError prefers the reader's own error, which go-sse can mask with its
// "unexpected end of input" when the read fails mid-line.
func eventsError(readErr, parseErr error) error {
	switch {
	case readErr != nil:
		return readErr
	case errors.Is(parseErr, bufio.ErrTooLong):
		return fmt.Errorf("%w: over %d bytes", ErrEventTooLarge, MaxEventSize)
	case errors.Is(parseErr, sse.ErrUnexpectedEOF):
		return fmt.Errorf("stream: %w", io.ErrUnexpectedEOF)
	default:
		return fmt.Errorf("stream: %w", parseErr)
	}
}

// eofLineReader passes reads through, remembers the first read error other
// than io.EOF, and at a clean EOF supplies the line ending the body's last
// line lacked.
type eofLineReader struct {
	r         io.Reader
	err       error
	last      byte // last byte read; 0 before any
	pendingNL bool // EOF seen with a full buffer: the newline comes next
	done      bool
}

func (e *eofLineReader) Read(p []byte) (int, error) {
	switch {
	case e.done:
		return 0, io.EOF
	case e.pendingNL && len(p) > 0:
		e.done = true
		p[0] = '\n'
		return 1, io.EOF
	}
	n, err := e.r.Read(p)
	if n > 0 {
		e.last = p[n-1]
	}
	if err == nil {
		return n, nil
	}
	if err != io.EOF {
		e.err = err
		return n, err
	}
	if e.last == 0 || e.last == '\n' || e.last == '\r' {
		e.done = true
		return n, io.EOF
	}
	if n == len(p) {
		e.pendingNL = true
		return n, nil
	}
	e.done = true
	p[n] = '\n'
	return n + 1, io.EOF
}
