package webhook_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/internal/webhook"
)

func TestEnvelope(t *testing.T) {
	t.Parallel()
	top, typ, err := webhook.Envelope([]byte(`{"event":"LEAD_CREATED","type":"other","data":{}}`))
	require.NoError(t, err)
	assert.Equal(t, "LEAD_CREATED", typ, `"event" wins over "type"`)
	assert.Contains(t, top, "data")

	_, typ, err = webhook.Envelope([]byte(`{"type":"ADD_MESSAGE"}`))
	require.NoError(t, err)
	assert.Equal(t, "ADD_MESSAGE", typ)

	_, typ, err = webhook.Envelope([]byte(`{"data":1}`))
	require.NoError(t, err)
	assert.Empty(t, typ, "an event without a type is still an event")

	for _, body := range []string{``, `[]`, `null`, `"x"`, `{`} {
		_, _, err := webhook.Envelope([]byte(body))
		assert.ErrorIs(t, err, webhook.ErrNotObject, body)
	}
	_, _, err = webhook.Envelope([]byte(`{"event":42}`))
	assert.EqualError(t, err, `"event" is not a string`)
}

func TestString(t *testing.T) {
	t.Parallel()
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(`{"a":"","b":12,"c":"x","d":{"e":1},"f":-1.5}`), &obj))
	assert.Equal(t, "12", webhook.String(obj, "a", "b", "c"), "an empty string is skipped, a number is text")
	assert.Equal(t, "x", webhook.String(obj, "d", "c"), "an object is skipped")
	assert.Equal(t, "-1.5", webhook.String(obj, "f"))
	assert.Empty(t, webhook.String(obj, "missing"))
}
