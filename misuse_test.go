package chatbot_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestProviderCodesDoNotCompareWithNormalisedCodes builds the mistake a user
// would make, comparing SiteGPT's own code with the normalised Code, and
// expects the compiler to refuse it, while the two right ways build.
func TestProviderCodesDoNotCompareWithNormalisedCodes(t *testing.T) {
	t.Parallel()
	const program = `package main

import (
	"errors"
	"fmt"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
)

func main() {
	var err error = &chatbot.Error{}
	var apiErr *chatbot.Error
	if errors.As(err, &apiErr) {
		fmt.Println(%s)
	}
}
`
	out, err := buildScratch(t, fmt.Sprintf(program, "apiErr.Code == sitegpt.CodeAPIKeyNotValid"))
	assert.Error(t, err, "comparing a SiteGPT code with chatbot.Code must not compile")
	assert.Contains(t, string(out), "mismatched types")

	out, err = buildScratch(t, fmt.Sprintf(program, "sitegpt.ErrorCodeOf(err) == sitegpt.CodeAPIKeyNotValid, errors.Is(err, chatbot.ErrUnauthorized)"))
	assert.NoError(t, err, "%s", out)
}
