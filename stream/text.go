package stream

import (
	"io"
	"iter"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Text's read buffer starts at minTextBuf and doubles each time a read fills
// it, up to textBufSize, the largest piece it reads at once: a stream held
// open for a trickle of deltas costs half a KiB, and a bulk download reaches
// full-size reads after six reads.
const (
	minTextBuf  = 512
	textBufSize = 32 << 10
)

// handOffSize is the piece size from which [Text] gives its read buffer to
// the yielded string and reads on into a new one, instead of copying the
// piece: for bulk reads the copy was a quarter of the cost, and a string
// never holds more than twice its length of buffer.
const handOffSize = textBufSize / 2

// Text yields the raw text of r as it arrives: each read's bytes, as soon as
// the read returns, without waiting to fill a buffer. It never splits a UTF-8
// character: an incomplete sequence at the end of a read is held back and
// yielded with the next read. A byte order mark opening r is dropped, as a
// UTF-8 decoder (the TextDecoder JavaScript clients read with) drops it;
// every other byte is kept, never altered or reordered, so concatenating
// the yielded strings gives exactly the input without that mark, invalid
// UTF-8 included. Empty strings are never yielded.
//
// A clean EOF ends the sequence without error; any other read error is
// yielded as is, last, after the text that arrived before it.
func Text(r io.Reader) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		buf := make([]byte, minTextBuf)
		held := 0 // bytes of an incomplete character kept at buf[:held]
		first := true
		for {
			n, err := r.Read(buf[held:])
			full := held+n == len(buf)
			n += held
			cut := completeUpTo(buf[:n])
			if err != nil {
				cut = n // nothing more will come to complete the character
			}
			size := len(buf)
			if full && size < textBufSize {
				size *= 2 // the reads outgrow the buffer
			}
			var piece string
			switch {
			case cut >= handOffSize:
				// The string takes buf over; buf is never written again.
				piece = unsafe.String(&buf[0], cut)
				next := make([]byte, size)
				held = copy(next, buf[cut:n])
				buf = next
			case size > len(buf):
				piece = string(buf[:cut])
				next := make([]byte, size)
				held = copy(next, buf[cut:n])
				buf = next
			default:
				piece = string(buf[:cut])
				held = copy(buf, buf[cut:n])
			}
			if first && cut > 0 {
				first = false
				piece = strings.TrimPrefix(piece, bom)
			}
			if piece != "" && !yield(piece, nil) {
				return
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield("", err)
				return
			}
		}
	}
}

// bom is the UTF-8 byte order mark.
const bom = "\uFEFF"

// completeUpTo returns the length of the longest prefix of p that does not end
// in the middle of a UTF-8 character that later bytes could complete.
func completeUpTo(p []byte) int {
	// A character is at most utf8.UTFMax bytes: look back that far for the
	// start of the last one.
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if utf8.FullRune(p[i:]) {
				return len(p)
			}
			return i
		}
	}
	return len(p)
}
