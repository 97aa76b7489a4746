package dialect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// ErrNoReply is the reason of a 2xx response that carried no reply text at
// all. It is reported wrapped together with io.ErrUnexpectedEOF: for the
// caller an empty reply is a reply that ended before its first word, and
// nothing the provider said is lost (an error the provider reported is a
// *chatbot.Error instead).
var ErrNoReply = errors.New("the response carried no reply")

// ErrTruncated is the reason of a stream whose format always ends with a
// marker and whose body ended cleanly without it.
var ErrTruncated = errors.New("body ended before the end of the reply")

// ErrAborted is the reason of a stream the server said it stopped.
var ErrAborted = errors.New("the server aborted the reply")

// Options are what a provider adds to [Run]. The zero value adds nothing.
type Options struct {
	// OnEvent, when set, is called with each decoded event before Run
	// applies it, and may change it (map provider metadata onto Usage, keep
	// a task id). An error it returns ends the stream with that error,
	// after the text received before the event.
	OnEvent func(*Event) error
}

// Run reads the body of one stream through dec and writes the reply to w:
// Server-Sent Events framed by [stream.Events], or for [DataStream] one
// part per line. It returns nil once the final chunk is written (or the
// consumer stopped), else the error the stream ends with, after the text
// that came before it:
//
//   - an error event: the event's *chatbot.Error, completed by
//     [rest.Client.EventError] (provider, code, redaction);
//   - an abort: an error wrapping [ErrAborted] and io.ErrUnexpectedEOF;
//   - a clean end of body without the end marker the format always sends:
//     an error wrapping [ErrTruncated] and io.ErrUnexpectedEOF;
//   - a reply with no text at all (and no whole-reply "response", and no
//     pending action) is never a complete reply: an error wrapping
//     [ErrNoReply] and io.ErrUnexpectedEOF;
//   - a body error (idle timeout, cancellation, a cut connection) as the
//     body reports it; an event over [stream.MaxEventSize] wraps
//     [stream.ErrEventTooLarge].
//
// Sources go on the chunk of the event that carried them; the usage, the
// finish reason and the pending actions on the final chunk. After an end
// marker Run drains the rest of the body ([rest.Body.Finish]) so the
// connection can be reused.
func Run(rc *rest.Client, body *rest.Body, w *rest.ChunkWriter, dec *Decoder, opts Options) error {
	r := runner{rc: rc, body: body, w: w, dec: dec, opts: opts}
	if dec.dialect == DataStream {
		return r.lines()
	}
	for ev, err := range stream.Events(body) {
		if err != nil {
			return r.fail(err)
		}
		r.event = dec.Decode(ev)
		if done, err := r.apply(); done {
			return err
		}
	}
	return r.end()
}

// runner is the state of one [Run].
type runner struct {
	rc       *rest.Client
	body     *rest.Body
	w        *rest.ChunkWriter
	dec      *Decoder
	opts     Options
	response string // a whole reply carried by an event
	event    Event  // the event being applied, here so that a hook's pointer to it does not allocate per event
}

// lines runs a body framed by lines.
func (r *runner) lines() error {
	lines := newLineReader(r.body)
	for {
		line, err := lines.next()
		if err == io.EOF && line != nil && !completePart(line) {
			line = nil // cut in the middle: dropped, as an SSE event cut mid-line is
		}
		if line != nil {
			r.event = r.dec.Decode(stream.Event{Data: string(line)})
			if done, err := r.apply(); done {
				return err
			}
		}
		switch {
		case err == io.EOF:
			return r.end()
		case err != nil:
			return r.fail(err)
		}
	}
}

// completePart reports whether a last line, which ended without its
// newline, holds a whole part: its value is valid JSON.
func completePart(line []byte) bool {
	_, value, ok := bytes.Cut(line, []byte(":"))
	return !ok || json.Valid(value)
}

// apply writes what r.event means and reports whether the stream is over,
// and with which error.
func (r *runner) apply() (bool, error) {
	w, e := r.w, &r.event
	if r.opts.OnEvent != nil {
		if err := r.opts.OnEvent(e); err != nil {
			w.Text(r.dec.Flush())
			return true, err
		}
	}
	w.SetIDs(e.ConversationID, e.MessageID)
	w.AddSources(e.Sources...)
	w.SetFinish(e.Usage, e.FinishReason, e.Actions)
	if e.Response != "" {
		r.response = e.Response
	}
	switch {
	case e.Err != nil:
		w.Text(r.dec.Flush())
		return true, r.rc.EventError(e.Err, e.ErrStatus)
	case e.Aborted:
		w.Text(r.dec.Flush())
		return true, fmt.Errorf("%s: stream: %w: %w", r.rc.Provider(), ErrAborted, io.ErrUnexpectedEOF)
	case e.End:
		// Text an end event carries (a last delta, or a whole reply that
		// replaces the deltas) is part of the reply.
		if (e.Replace && !w.Replace(e.Text)) || (!e.Replace && e.Text != "" && !w.Text(e.Text)) {
			return true, nil
		}
		delivered, err := r.finish()
		if delivered {
			// The reply is complete and delivered: read the body's end so
			// the connection can be reused.
			r.body.Finish()
		}
		return true, err
	case e.Replace:
		return !w.Replace(e.Text), nil
	}
	return !w.Text(e.Text), nil // false: the consumer broke out of the loop
}

// end is the clean end of the body.
func (r *runner) end() error {
	if r.dec.Truncated() {
		r.w.Text(r.dec.Flush())
		return fmt.Errorf("%s: stream: %w: %w", r.rc.Provider(), ErrTruncated, io.ErrUnexpectedEOF)
	}
	_, err := r.finish()
	return err
}

// fail ends the stream with a framing or body error.
func (r *runner) fail(err error) error {
	r.w.Text(r.dec.Flush())
	if berr := r.body.Err(); berr != nil && errors.Is(err, berr) {
		return err // the body's error: already "<provider>: stream: …"
	}
	return fmt.Errorf("%s: stream: %w", r.rc.Provider(), err)
}

// finish yields the rest of the text and the Done chunk, which carries a
// whole-reply response only when no text came before; a reply with no text
// at all, and no action pending, is an error. It reports whether the Done
// chunk was delivered to a consumer still listening.
func (r *runner) finish() (bool, error) {
	w := r.w
	if tail := r.dec.Flush(); tail != "" && !w.Text(tail) {
		return false, nil // sources still waiting go on the Done chunk
	}
	switch {
	case w.Wrote(), w.FinishReason() == chatbot.FinishActionRequired:
		return w.Final(""), nil
	case r.response != "":
		return w.Final(r.response), nil
	}
	return false, NoReply(r.rc)
}

// NoReply is the error of a 2xx response that carried no reply: it wraps
// [ErrNoReply] and io.ErrUnexpectedEOF.
func NoReply(rc *rest.Client) error {
	return fmt.Errorf("%s: stream: %w: %w", rc.Provider(), ErrNoReply, io.ErrUnexpectedEOF)
}

// RunText writes a raw text body (AI SDK toTextStreamResponse, a text/plain
// parser) to w as it arrives, through [stream.Text]: never splitting a
// UTF-8 character, never altering a byte but a byte order mark opening the
// body, which a UTF-8 decoder drops. The end of the body ends the reply; a
// body with no text is [NoReply].
func RunText(rc *rest.Client, body io.Reader, w *rest.ChunkWriter) error {
	for text, err := range stream.Text(body) {
		if err != nil {
			return err // the body's own error, already "<provider>: stream: …"
		}
		if !w.Text(text) {
			return nil
		}
	}
	if !w.Wrote() {
		return NoReply(rc)
	}
	return nil
}
