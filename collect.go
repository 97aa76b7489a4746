package chatbot

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf8"
)

// DefaultMaxCollectBytes is the most reply text [Collect] holds: 8 MiB, the
// cap every provider's Chat puts on a reply body, so that a hostile or broken
// server cannot exhaust memory through a stream either.
const DefaultMaxCollectBytes = 8 << 20

// ErrReplyTooLarge is wrapped by the error [Collect] and [CollectN] return
// when a stream's text exceeds their bound. The partial reply returned with it
// holds the text up to the bound.
var ErrReplyTooLarge = errors.New("chatbot: reply exceeds the collect bound")

// CollectN is [Collect] with a bound of maxBytes bytes of text instead of
// [DefaultMaxCollectBytes]; a negative maxBytes removes the bound (the caller
// then accepts that a server decides how much memory the reply takes).
//
// When the next chunk would take the text past maxBytes, CollectN keeps what
// fits (never splitting a UTF-8 character), stops ranging, which closes the
// stream and its connection, and returns the partial reply with an error
// wrapping [ErrReplyTooLarge]. Otherwise it behaves as Collect. Ranging over
// a stream yourself is never bounded.
func CollectN(chunks iter.Seq2[Chunk, error], maxBytes int) (*Reply, error) {
	var (
		text strings.Builder
		r    Reply
		done bool
	)
	for c, err := range chunks {
		if err != nil {
			r.Text = text.String()
			return &r, err
		}
		if c.ConversationID != "" {
			r.ConversationID = c.ConversationID
		}
		if c.MessageID != "" {
			r.MessageID = c.MessageID
		}
		if r.RateLimit == nil && c.RateLimit != nil {
			r.RateLimit = c.RateLimit
		}
		r.Sources = append(r.Sources, c.Sources...)
		if c.Usage != nil {
			r.Usage = c.Usage
		}
		if c.FinishReason != "" {
			r.FinishReason = c.FinishReason
		}
		r.Actions = append(r.Actions, c.Actions...)
		if c.Replace {
			text.Reset()
		}
		if maxBytes >= 0 && len(c.Text) > maxBytes-text.Len() {
			text.WriteString(prefix(c.Text, maxBytes-text.Len()))
			r.Text = text.String()
			return &r, fmt.Errorf("%w: more than %d bytes of text", ErrReplyTooLarge, maxBytes)
		}
		text.WriteString(c.Text)
		done = done || c.Done
	}
	r.Text = text.String()
	switch {
	case !done:
		return &r, ErrIncomplete
	case r.FinishReason == FinishActionRequired:
		return &r, fmt.Errorf("%w (%d pending)", ErrActionRequired, len(r.Actions))
	}
	return &r, nil
}

// prefix returns the longest prefix of s of at most n bytes that does not end
// in a character cut in half.
func prefix(s string, n int) string {
	s = s[:n]
	i := len(s) - 1
	for i > 0 && i > len(s)-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	if i >= 0 && !utf8.FullRuneInString(s[i:]) {
		s = s[:i]
	}
	return s
}

// Tee returns chunks as they are, writing each chunk's text to w as it passes
// through, so that one loop both shows a reply as it arrives and keeps it:
//
//	reply, err := chatbot.Collect(chatbot.Tee(os.Stdout, bot.Stream(ctx, req)))
//
// The returned sequence keeps the stream's contract (lazy, single-use, the
// error last). When w fails on a chunk, Tee still yields that chunk (nothing
// received is lost), then stops ranging over chunks, which closes the stream
// and its connection, and yields an error wrapping w's error as the last
// pair; a write that took fewer bytes than it was given without an error
// is reported as [io.ErrShortWrite], as [io.Copy] does. The text already
// written stays written. w sees every chunk it is handed, even one that a
// bounded [CollectN] then cuts.
//
// A [Chunk.Replace] chunk replaces the reply so far, and an io.Writer cannot
// take bytes back. When w has a Reset() method, as [bytes.Buffer] and
// [strings.Builder] do, Tee calls it before writing the replacing text, so w
// holds what [Collect] returns; any other w receives the replacing text after
// what it was already given. A caller that shows a reply where it can be
// cleared (a terminal line, a web page) should range over the chunks itself
// and clear what it showed on Replace.
func Tee(w io.Writer, chunks iter.Seq2[Chunk, error]) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for c, err := range chunks {
			if err != nil {
				yield(c, err)
				return
			}
			if werr := write(w, c); werr != nil {
				if yield(c, nil) {
					yield(Chunk{}, fmt.Errorf("chatbot: writing the reply: %w", werr))
				}
				return
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// write writes c's text to w for [Tee], resetting w first on a Replace chunk
// when w can be reset.
func write(w io.Writer, c Chunk) error {
	if c.Replace {
		if r, ok := w.(interface{ Reset() }); ok {
			r.Reset()
		}
	}
	if c.Text == "" {
		return nil
	}
	n, err := io.WriteString(w, c.Text)
	if err == nil && n < len(c.Text) {
		err = io.ErrShortWrite
	}
	return err
}
