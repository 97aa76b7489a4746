package dialect

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/stream"
)

// decodeBody frames r as d's streams are framed ([Run]) and decodes every
// event, then reports whether a clean end there would be a truncation.
func decodeBody(d Dialect, r io.Reader) ([]Event, bool, error) {
	dec := New(d, nil)
	var out []Event
	if d == DataStream {
		lines := newLineReader(r)
		for {
			line, err := lines.next()
			if line != nil {
				out = append(out, dec.Decode(stream.Event{Data: string(line)}))
			}
			switch {
			case err == io.EOF:
				return out, dec.Truncated(), nil
			case err != nil:
				return out, false, err
			}
		}
	}
	for ev, err := range stream.Events(r) {
		if err != nil {
			return out, false, err
		}
		out = append(out, dec.Decode(ev))
	}
	return out, dec.Truncated(), nil
}

// seeds returns the golden inputs of testdata/<dir>/ whose name ends in ext.
func seeds(f *testing.F, ext string) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*"+ext))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	var bodies [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		bodies = append(bodies, b)
	}
	return bodies
}

// checkRechunked decodes body in dialect d whole and one byte at a time:
// no panic, the same events, the same truncation, and well-formed errors;
// in the JSON dialects every text is valid UTF-8.
func checkRechunked(t *testing.T, d Dialect, body []byte) {
	whole, truncWhole, errWhole := decodeBody(d, bytes.NewReader(body))
	bytewise, truncBytes, errBytes := decodeBody(d, iotest.OneByteReader(bytes.NewReader(body)))
	assert.Equal(t, errWhole == nil, errBytes == nil, "%s", d)
	assert.Equal(t, whole, bytewise, "%s", d)
	assert.Equal(t, truncWhole, truncBytes, "%s", d)
	raw := d == Plain || d == Quoted || d == Sniff // text may be the data byte for byte
	for _, e := range whole {
		if e.Err != nil {
			assert.Equal(t, 0, e.Err.StatusCode)
			assert.NotEmpty(t, e.Err.Message)
			assert.True(t, utf8.ValidString(e.Err.Message), "%s: %q", d, e.Err.Message)
		}
		if !raw {
			assert.True(t, utf8.ValidString(e.Text), "%s: %q", d, e.Text)
		}
	}
}

// FuzzDecodeEvents feeds arbitrary bodies through the SSE framing and every
// SSE dialect.
func FuzzDecodeEvents(f *testing.F) {
	for _, b := range seeds(f, ".sse") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for d := Sniff; d <= CustomGPT; d++ {
			if d != DataStream {
				checkRechunked(t, d, body)
			}
		}
	})
}

// FuzzDecodeDataStream feeds arbitrary bodies through the data stream's
// line framing and its decoder.
func FuzzDecodeDataStream(f *testing.F) {
	for _, b := range seeds(f, ".txt") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkRechunked(t, DataStream, body)
	})
}

// FuzzJSONText checks the JSON string decoder against encoding/json: the
// same strings are accepted, and once lone surrogate halves are resolved
// (each becomes U+FFFD, as encoding/json does) the text is the same.
func FuzzJSONText(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83c\uddf7"`, `"x\ud83c"`, `"\uddf7y"`, `"\ud83c\u0041"`, `"\ud83c\ud83c\udf00"`,
		`"tab\there"`, "\"\xed\xa0\x80\"", `"\/\b\f\n\r\t\"\\"`, `"bad \x"`, "\"w\u00f6rld\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := jsonText(raw)
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
			assert.False(t, ok)
			return
		}
		var want string
		wantOK := json.Unmarshal(raw, &want) == nil
		require.Equal(t, wantOK, ok, "%q", raw)
		if ok {
			assert.Equal(t, want, whole(got))
		}
	})
}

// TestJoinerSplitsAnywhere joins a string split into deltas at every UTF-16
// code unit boundary, as a JavaScript server may cut it.
func TestJoinerSplitsAnywhere(t *testing.T) {
	t.Parallel()
	const text = "a🇷🇺b😀"
	units := []string{"a", `\ud83c`, `\uddf7`, `\ud83c`, `\uddfa`, "b", `\ud83d`, `\ude00`}
	for cut := 1; cut < len(units); cut++ {
		var j joiner
		var b strings.Builder
		for _, part := range []string{strings.Join(units[:cut], ""), strings.Join(units[cut:], "")} {
			s, ok := jsonText([]byte(`"` + part + `"`))
			require.True(t, ok)
			b.WriteString(j.join(s))
		}
		b.WriteString(j.flush())
		assert.Equal(t, text, b.String(), "cut after %d units", cut)
	}
	var j joiner
	s, _ := jsonText([]byte(`"end \ud83c"`))
	assert.Equal(t, "end ", j.join(s))
	assert.Equal(t, "\uFFFD", j.flush(), "a lone high half at the end")
	s, _ = jsonText([]byte(`"\uddf7 lone low"`))
	assert.Equal(t, "\uFFFD lone low", j.join(s))
}
