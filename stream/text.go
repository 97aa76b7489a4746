package stream

import (
	"io"
	"iter"
	"unicode/utf8"
)

// textBufSize is the largest piece [Text] reads at once.
const textBufSize = 32 << 10

// Text yields the raw text of r as it arrives: each read's bytes, as soon as
// the read returns, without waiting to fill a buffer. It never splits a UTF-8
// character: an incomplete sequence at the end of a read is held back and
// yielded with the next read. Bytes are never altered, dropped or reordered,
// so concatenating the yielded strings gives exactly the input, invalid
// UTF-8 included. Empty strings are never yielded.
//
// A clean EOF ends the sequence without error; any other read error is
// yielded as is, last, after the text that arrived before it.
func Text(r io.Reader) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		buf := make([]byte, textBufSize)
		held := 0 // bytes of an incomplete character kept at buf[:held]
		for {
			n, err := r.Read(buf[held:])
			n += held
			cut := completeUpTo(buf[:n])
			if err != nil {
				cut = n // nothing more will come to complete the character
			}
			if cut > 0 && !yield(string(buf[:cut]), nil) {
				return
			}
			held = copy(buf, buf[cut:n])
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
