package relay

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json, byte for byte, on any input, valid UTF-8 or not.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", `"quoted" \ back`, "tab\there\nline\r\x00\x1f", "<a href='x'>&amp;</a>",
		"Grüße 你好 🎉", "\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\x7f del"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendString([]byte("x"), s)[1:]))
	})
}
