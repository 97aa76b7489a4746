package fake

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTamperChangesExactlyOneByte(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"event":"LEAD_CREATED"}`, `[1,2,3]`, `x`, `123`} {
		out := Tamper([]byte(in))
		assert.Len(t, out, len(in))
		diff := 0
		for i := range out {
			if out[i] != in[i] {
				diff++
			}
		}
		assert.Equal(t, 1, diff, in)
	}
	assert.Empty(t, Tamper(nil))
	orig := []byte("abc")
	Tamper(orig)
	assert.Equal(t, "abc", string(orig), "the input is not modified")
}
