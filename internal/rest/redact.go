package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
)

// Bounds on what an error can print, so that a hostile server cannot make an
// error string as large as what it sent (a 4 MiB X-Request-Id, a long message).
const (
	maxErrorText = 8 << 10 // the whole Error() string of any returned error
	maxMessage   = 4 << 10 // chatbot.Error.Message
	maxShort     = 256     // chatbot.Error.RequestID and ProviderCode
)

// redacted replaces the secret, in whatever form it was found.
const redacted = "[REDACTED]"

// redactor finds a secret in text in the forms servers and Go's own error
// messages write it:
//
//   - literally;
//   - JSON-escaped, as PHP's json_encode writes it ("\/") or with \u escapes
//     ("\u002f", any case, behind one to eight backslashes, as %q quoting
//     adds);
//   - URL-encoded ("%2F", "%2f", and the double-encoded "%252F");
//   - as HTML character references: decimal ("&#47;"), hexadecimal
//     ("&#x2f;") and the HTML5 named references of ASCII punctuation
//     ("&amp;", "&lt;", "&quot;", "&sol;", … see htmlNames);
//   - base64-encoded, in the standard and the URL-safe alphabets, padded or
//     not, at each of the three alignments the secret can have inside a
//     longer encoded text (so "Bearer <key>" or "user:<key>" encoded whole
//     is found too): the characters that depend only on the secret's bytes
//     are replaced;
//   - hex-encoded, in lower or upper case (of the secret alone or of any
//     text containing it, "Bearer <key>" included).
//
// In the first four forms every character of the secret outside the
// unreserved set (letters, digits, "-", ".", "_", "~", which no encoder
// escapes) may take any of its forms independently, so a mixed encoding is
// found too. Forms not listed (base64 broken into lines, an encoding of an
// encoding other than "%25XX") are not looked for.
//
// A nil *redactor (no secret) changes nothing.
type redactor struct {
	re      *regexp.Regexp
	needles []string // the base64 and hex forms, found by substring search
	margin  int      // the longest text a match can span
}

func newRedactor(secret string) *redactor {
	if secret == "" {
		return nil
	}
	var b strings.Builder
	for _, r := range secret {
		if unreserved(r) {
			// Every encoding leaves these as they are; written literally,
			// they give the expression a literal prefix, which the regexp
			// package finds with a fast substring search.
			b.WriteRune(r)
			continue
		}
		alts := []string{regexp.QuoteMeta(string(r))}
		if r <= 0xFFFF {
			alts = append(alts, fmt.Sprintf(`(?i:\\{1,8}u%04x)`, r))
		}
		var enc strings.Builder
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			fmt.Fprintf(&enc, `%%(?:25)?(?i:%02x)`, c)
		}
		alts = append(alts, enc.String())
		alts = append(alts, fmt.Sprintf(`&#0{0,8}%d;`, r), fmt.Sprintf(`(?i:&#x0{0,8}%x;)`, r))
		for _, name := range htmlNames[r] {
			alts = append(alts, "&"+name+";")
		}
		if r == '/' || r == '"' || r == '\\' {
			alts = append(alts, `\\{1,8}`+regexp.QuoteMeta(string(r)))
		}
		b.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	needles := encodedForms(secret)
	margin := maxEncodedRune * len(secret)
	for _, n := range needles {
		margin = max(margin, len(n))
	}
	return &redactor{re: regexp.MustCompile(b.String()), needles: needles, margin: margin}
}

// maxEncodedRune is the longest form the redactor matches for one character
// of the secret: four bytes, each double-percent-encoded ("%25XX"). Every
// other form of one character is shorter ("&DiacriticalGrave;" is 18 bytes).
const maxEncodedRune = 4 * len("%25XX")

// htmlNames are the HTML5 named character references of the ASCII
// characters an HTML encoder may escape (WHATWG HTML, "Named character
// references"); the test checks each against html.UnescapeString.
var htmlNames = map[rune][]string{
	'!': {"excl"}, '"': {"quot", "QUOT"}, '#': {"num"}, '$': {"dollar"}, '%': {"percnt"},
	'&': {"amp", "AMP"}, '\'': {"apos"}, '(': {"lpar"}, ')': {"rpar"}, '*': {"ast", "midast"},
	'+': {"plus"}, ',': {"comma"}, '/': {"sol"}, ':': {"colon"}, ';': {"semi"},
	'<': {"lt", "LT"}, '=': {"equals"}, '>': {"gt", "GT"}, '?': {"quest"}, '@': {"commat"},
	'[': {"lsqb", "lbrack"}, '\\': {"bsol"}, ']': {"rsqb", "rbrack"}, '^': {"Hat"},
	'`': {"grave", "DiacriticalGrave"}, '{': {"lcub", "lbrace"}, '|': {"verbar", "vert", "VerticalLine"},
	'}': {"rcub", "rbrace"},
}

// encodedForms returns the base64 and hex forms of secret that the redactor
// finds by substring search, without duplicates. For base64, the secret may
// start at any of three byte offsets of the encoded text; at offset o the
// characters from ceil(8o/6) up to floor(8(o+n)/6) depend on the secret's n
// bytes alone, whatever surrounds it.
func encodedForms(secret string) []string {
	forms := []string{hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret)))}
	for o := range 3 {
		b := make([]byte, o+len(secret))
		copy(b[o:], secret)
		from, to := (8*o+5)/6, 8*(o+len(secret))/6
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if s := enc.EncodeToString(b)[from:to]; len(s) >= minEncodedForm {
				forms = append(forms, s)
			}
		}
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// minEncodedForm is the shortest encoded form searched for: a secret of two
// or three characters has base64 forms too short to tell from other text.
const minEncodedForm = 4

// unreserved reports the characters that JSON, URL and HTML encoders and Go's
// %q quoting all leave as they are (RFC 3986's unreserved set).
func unreserved(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '-' || r == '.' || r == '_' || r == '~'
}

func (r *redactor) string(s string) string {
	if r == nil || s == "" {
		return s
	}
	s = r.re.ReplaceAllLiteralString(s, redacted)
	for _, n := range r.needles {
		if strings.Contains(s, n) {
			s = strings.ReplaceAll(s, n, redacted)
		}
	}
	return s
}

func (r *redactor) bytes(b []byte) []byte {
	if r == nil || len(b) == 0 {
		return b
	}
	b = r.re.ReplaceAllLiteral(b, []byte(redacted))
	for _, n := range r.needles {
		if bytes.Contains(b, []byte(n)) {
			b = bytes.ReplaceAll(b, []byte(n), []byte(redacted))
		}
	}
	return b
}

// boundedBytes is [redactor.bounded] for a body: it redacts the first n
// bytes of b and what follows them up to the longest span a match can have,
// then cuts the result to n bytes, so that a secret straddling the cut is
// removed whole rather than cut in two with its first half kept.
func (r *redactor) boundedBytes(b []byte, n int) []byte {
	if r != nil {
		b = r.bytes(b[:min(len(b), n+r.margin)])
	}
	return b[:min(len(b), n)]
}

// readLimit is how much of a body must be read so that [redactor.boundedBytes]
// can keep n bytes of it.
func (r *redactor) readLimit(n int) int64 {
	if r == nil {
		return int64(n)
	}
	return int64(n + r.margin)
}

// bounded redacts s and truncates it to n bytes. Only the first n bytes plus
// the longest span a match can have are searched, so that a 4 MiB header
// costs no more than a short one, and a secret starting before the cut is
// still found whole.
func (r *redactor) bounded(s string, n int) string {
	if r != nil && len(s) > n+r.margin {
		k := n + r.margin
		for k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		s = s[:k]
	}
	return truncate(r.string(s), n)
}

// truncate cuts s to at most n bytes on a character boundary, saying how
// much was cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…[truncated]"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Safe is the one step every error the SDK returns passes through. It
// returns err wrapped so that its Error() (and so %v, %+v and %s) never
// contains the client's secret in any form and is at most 8 KiB long; the
// wrapper's Unwrap returns err, so errors.Is and errors.As see everything
// they saw before. A *chatbot.Error found in err's chain has its fields
// redacted and bounded in place (see [Client.Scrub]), so that what errors.As
// hands the caller is clean too. Safe(nil) is nil, and an error already
// returned by Safe is returned as it is.
func (c *Client) Safe(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*safeError); ok {
		return err
	}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) {
		c.Scrub(apiErr)
	}
	return &safeError{err: err, r: c.redactor}
}

// Scrub redacts the secret from e's Message, ProviderCode, RequestID and Body
// in every form the redactor knows, and bounds Message to 4 KiB and
// ProviderCode and RequestID to 256 bytes. It is idempotent and returns e.
func (c *Client) Scrub(e *chatbot.Error) *chatbot.Error {
	if e == nil {
		return nil
	}
	e.Message = c.redactor.bounded(e.Message, maxMessage)
	e.ProviderCode = c.redactor.bounded(e.ProviderCode, maxShort)
	e.RequestID = c.redactor.bounded(e.RequestID, maxShort)
	e.Body = c.redactor.bytes(e.Body)
	return e
}

// safeError is the wrapper [Client.Safe] returns.
type safeError struct {
	err error
	r   *redactor
}

// Error returns the wrapped error's text, redacted and bounded.
func (e *safeError) Error() string { return e.r.bounded(e.err.Error(), maxErrorText) }

// GoString makes %#v print the redacted text rather than the wrapped error's
// fields, which may hold a URL or a header the text never showed.
func (e *safeError) GoString() string { return fmt.Sprintf("%q", e.Error()) }

// Unwrap returns the wrapped error.
func (e *safeError) Unwrap() error { return e.err }
