package workspace

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/stream"
)

// decodeAll frames r as events and decodes each one.
func decodeAll(r io.Reader) ([]decodedEvent, error) {
	var out []decodedEvent
	for ev, err := range stream.Events(r) {
		if err != nil {
			return out, err
		}
		out = append(out, decodeEvent(ev, new(wireEvent)))
	}
	return out, nil
}

// FuzzDecodeEvents feeds arbitrary bodies through the SSE framing and the
// event decoder: no panic, and reading one byte at a time decodes the same
// events as reading the whole body.
func FuzzDecodeEvents(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		whole, errWhole := decodeAll(bytes.NewReader(body))
		bytewise, errBytes := decodeAll(iotest.OneByteReader(bytes.NewReader(body)))
		assert.Equal(t, errWhole == nil, errBytes == nil)
		assert.Equal(t, whole, bytewise)
		for _, d := range whole {
			if d.err != nil {
				assert.Equal(t, 0, d.err.StatusCode)
				assert.NotEmpty(t, d.err.Message)
			}
		}
	})
}
