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
// A clean EOF after a complete line ends the sequence without error (a last
// event without its blank line is still yielded). A body that ends in the
// middle of a line was cut: as the SSE specification says, that incomplete
// event is dropped, and the sequence ends with an error wrapping
// io.ErrUnexpectedEOF, so a half-received JSON payload is never taken for
// data. A read error from r is yielded as is, last, so that
// errors.Is(err, io.ErrUnexpectedEOF) or the context's error stay visible.
func Events(r io.Reader) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		src := &errReader{r: r}
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
		return fmt.Errorf("stream: body ended in the middle of a line: %w", io.ErrUnexpectedEOF)
	default:
		return fmt.Errorf("stream: %w", parseErr)
	}
}

// errReader passes reads through and remembers the first read error other
// than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
