package workspace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeResponses feeds arbitrary bodies to the decoders of leads pages,
// leads and chat envelopes: none may panic, and a page that decodes holds
// leads that keep their raw JSON.
func FuzzDecodeResponses(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b, 1, 2)
	}
	f.Fuzz(func(t *testing.T, body []byte, page, limit int) {
		leads, more, err := decodeLeadsPage(body, page, limit)
		if err != nil {
			assert.Empty(t, leads)
			assert.False(t, more)
		}
		for _, l := range leads {
			assert.True(t, json.Valid(l.Raw))
		}
		var l Lead
		_ = json.Unmarshal(body, &l)
		var env envelope
		_ = json.Unmarshal(body, &env)
	})
}
