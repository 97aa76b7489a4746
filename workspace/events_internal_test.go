package workspace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/internal/rest"
	"github.com/chatbot-go/chatbot/stream"
)

// decodeAll frames r as events and decodes each one, then reports whether
// a clean end here would be a truncation.
func decodeAll(r io.Reader) ([]decodedEvent, bool, error) {
	var out []decodedEvent
	dec := newEventDecoder(http.Header{})
	for ev, err := range stream.Events(r) {
		if err != nil {
			return out, false, err
		}
		d := dec.decode(ev)
		if dec.dialect == dialectObject && !utf8.ValidString(d.text) {
			// Plain and quoted streams pass raw data through byte for
			// byte; JSON objects are decoded, so their text is valid.
			panic("a JSON object stream yielded invalid UTF-8: " + d.text)
		}
		out = append(out, d)
	}
	return out, dec.truncated(), nil
}

// goldenBodies returns the bodies of the golden transcripts whose media
// type is mt (the SSE fixtures count as text/event-stream).
func goldenBodies(f *testing.F, mt string) [][]byte {
	var bodies [][]byte
	if mt == "text/event-stream" {
		files, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
		require.NoError(f, err)
		for _, name := range files {
			b, err := os.ReadFile(name)
			require.NoError(f, err)
			bodies = append(bodies, b)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.http"))
	require.NoError(f, err)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		require.NoError(f, err)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		require.NoError(f, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(f, err)
		if mediaType(&rest.Response{Header: resp.Header}) == mt {
			bodies = append(bodies, body)
		}
	}
	require.NotEmpty(f, bodies)
	return bodies
}

// FuzzDecodeEvents feeds arbitrary bodies through the SSE framing and the
// event decoder: no panic, JSON object streams yield valid UTF-8, and reading one
// byte at a time decodes the same events as reading the whole body.
func FuzzDecodeEvents(f *testing.F) {
	for _, b := range goldenBodies(f, "text/event-stream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, truncWhole, errWhole := decodeAll(bytes.NewReader(body))
		bytewise, truncBytes, errBytes := decodeAll(iotest.OneByteReader(bytes.NewReader(body)))
		assert.Equal(t, errWhole == nil, errBytes == nil)
		assert.Equal(t, whole, bytewise)
		assert.Equal(t, truncWhole, truncBytes)
		for _, d := range whole {
			if d.err != nil {
				assert.Equal(t, 0, d.err.StatusCode)
				assert.NotEmpty(t, d.err.Message)
				assert.True(t, utf8.ValidString(d.err.Message))
			}
		}
	})
}

// dataParts reads a data stream body line by line and decodes each part.
func dataParts(r io.Reader) ([]dataPart, error) {
	lines := newLineReader(r)
	var out []dataPart
	for {
		line, err := lines.next()
		if line != nil {
			out = append(out, decodeDataPart(line))
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// FuzzDecodeDataStream feeds arbitrary bodies through the data stream
// protocol's line splitting and part decoder: no panic, and one-byte reads
// give the same parts as whole reads.
func FuzzDecodeDataStream(f *testing.F) {
	for _, b := range goldenBodies(f, "text/plain") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, errWhole := dataParts(bytes.NewReader(body))
		bytewise, errBytes := dataParts(iotest.OneByteReader(bytes.NewReader(body)))
		require.NoError(t, errWhole)
		require.NoError(t, errBytes)
		assert.Equal(t, whole, bytewise)
		var j joiner
		for _, p := range whole {
			assert.True(t, utf8.ValidString(j.join(p.text)))
			if p.err != nil {
				assert.True(t, utf8.ValidString(p.err.Message))
			}
		}
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
