package dialect

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JavaScript servers cut strings by UTF-16 code unit, so a character outside
// the Basic Multilingual Plane (an emoji) can arrive as "…\ud83c" in one
// delta and "\uddf7…" in the next. encoding/json turns each half into U+FFFD.
// [jsonText] keeps such a lone half instead, as the three bytes of its
// "generalized UTF-8" (WTF-8) encoding, 0xED 0xA0–0xBF 0x80–0xBF, which valid
// UTF-8 never contains, and a [joiner] pairs it with the other half of the
// next delta. Only escapes produce those bytes: raw invalid UTF-8 in a JSON
// string becomes U+FFFD, as encoding/json does.

// jsonText decodes raw as a JSON string literal, as encoding/json does except
// for escaped surrogate halves without a partner in the same string, which it
// keeps as WTF-8 (see above). It reports false when raw is not a valid JSON
// string. A string without escapes, the common case, is taken as is.
func jsonText(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	i := 0
	for i < len(body) && body[i] >= 0x20 && body[i] < utf8.RuneSelf && body[i] != '\\' && body[i] != '"' {
		i++
	}
	if i == len(body) {
		return string(body), true
	}
	b := make([]byte, 0, len(body))
	b = append(b, body[:i]...)
	for i < len(body) {
		c := body[i]
		switch {
		case c == '\\':
			if i+1 >= len(body) {
				return "", false
			}
			switch e := body[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(body[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if !utf16.IsSurrogate(r) {
					b = utf8.AppendRune(b, r)
					continue
				}
				if r < 0xDC00 && i+1 < len(body) && body[i] == '\\' && body[i+1] == 'u' {
					if r2, ok := hex4(body[i+2:]); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				b = append(b, 0xED, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
				continue
			default:
				return "", false
			}
			i += 2
		case c < 0x20 || c == '"':
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, body[i:i+size]...)
			}
			i += size
		}
	}
	return string(b), true
}

// hex4 decodes the four hex digits at the start of p.
func hex4(p []byte) (rune, bool) {
	if len(p) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// surrogateAt returns the surrogate half whose WTF-8 encoding starts at s[i].
func surrogateAt(s string, i int) (rune, bool) {
	if i+2 >= len(s) || s[i] != 0xED || s[i+1] < 0xA0 || s[i+1] > 0xBF || s[i+2] < 0x80 || s[i+2] > 0xBF {
		return 0, false
	}
	return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
}

// joiner rejoins surrogate halves split across the deltas of one stream. The
// zero value is ready to use.
type joiner struct {
	high rune // a high half that ended the previous delta, or 0
}

// join returns s, a delta decoded by [jsonText], as valid UTF-8: a low half
// at its start completes the high half that ended the previous delta; a high
// half at its end is held for the next delta; every other lone half becomes
// U+FFFD.
func (j *joiner) join(s string) string {
	if s == "" || (j.high == 0 && !strings.Contains(s, "\xED")) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	i := 0
	if j.high != 0 {
		if r, ok := surrogateAt(s, 0); ok && r >= 0xDC00 {
			b.WriteRune(utf16.DecodeRune(j.high, r))
			i = 3
		} else {
			b.WriteRune(utf8.RuneError)
		}
		j.high = 0
	}
	for i < len(s) {
		r, ok := surrogateAt(s, i)
		if !ok {
			k := strings.IndexByte(s[i+1:], 0xED)
			if k < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+1+k])
			i += 1 + k
			continue
		}
		if r < 0xDC00 && i+3 == len(s) {
			j.high = r
		} else {
			b.WriteRune(utf8.RuneError)
		}
		i += 3
	}
	return b.String()
}

// flush returns U+FFFD for a high half still held at the end of the stream,
// else "".
func (j *joiner) flush() string {
	if j.high == 0 {
		return ""
	}
	j.high = 0
	return "\uFFFD"
}

// whole returns s, one complete string (an id, a message, a whole reply), as
// valid UTF-8, every lone surrogate half becoming U+FFFD.
func whole(s string) string {
	var j joiner
	s = j.join(s)
	return s + j.flush()
}

// jsonString is a JSON value read only when it is a string: any other value
// (a number, an object, null) leaves it unset, so the decoder moves on to
// the next candidate field. Its text may hold half a surrogate pair (see
// [jsonText]).
type jsonString struct {
	s   string
	set bool
}

func (j *jsonString) UnmarshalJSON(b []byte) error {
	j.s, j.set = jsonText(b)
	return nil
}

// stringSet records only whether a JSON value is a non-empty string (an
// OpenAI finish_reason), keeping the per-event decoding small.
type stringSet bool

func (b *stringSet) UnmarshalJSON(raw []byte) error {
	*b = len(raw) > 2 && raw[0] == '"'
	return nil
}

// number is a JSON number, or a string holding one, read without ever
// failing the decoding of the object around it: any other value leaves it
// unset.
type number struct {
	f   float64
	set bool
}

func (n *number) UnmarshalJSON(b []byte) error {
	if s, ok := jsonText(b); ok {
		b = []byte(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && json.Valid(b) {
		n.f, n.set = f, true
	}
	return nil
}

// nonEmpty returns the first of js that is set and not empty.
func nonEmpty(js ...jsonString) string {
	for _, j := range js {
		if j.s != "" {
			return j.s
		}
	}
	return ""
}

// FirstText returns the first of raws that is a non-empty JSON string, as
// valid UTF-8 (a lone surrogate half becomes U+FFFD), or a JSON number (an
// id or a code), as written; "" when there is none.
func FirstText(raws ...json.RawMessage) string {
	for _, raw := range raws {
		if s, ok := jsonText(raw); ok {
			if s != "" {
				return whole(s)
			}
			continue
		}
		if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
			if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
				return string(raw)
			}
		}
	}
	return ""
}

// JSONText decodes raw as a JSON string literal into valid UTF-8, each lone
// surrogate half becoming U+FFFD, as encoding/json does. It reports false
// when raw is not a JSON string.
func JSONText(raw []byte) (string, bool) {
	s, ok := jsonText(raw)
	return whole(s), ok
}
