package relaytest

import (
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/relay"
	"github.com/chatbot-go/chatbot/stream"
)

// Text reads resp's body as the relay's raw text and yields its pieces as
// they arrive (a form feed starts a Replace chunk), then, from the
// trailers, a Done chunk with the finish reason, or an *[Error] with the
// code. It does not close the body.
func Text(resp *http.Response) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for s, err := range stream.Text(resp.Body) {
			if err != nil {
				yield(chatbot.Chunk{}, err)
				return
			}
			for i, piece := range strings.Split(s, "\f") {
				if (piece != "" || i > 0) && !yield(chatbot.Chunk{Text: piece, Replace: i > 0}, nil) {
					return
				}
			}
		}
		switch {
		case resp.Trailer.Get(relay.TrailerError) != "":
			yield(chatbot.Chunk{}, &Error{Code: resp.Trailer.Get(relay.TrailerError)})
		case resp.Trailer.Get(relay.TrailerFinish) != "":
			yield(chatbot.Chunk{Done: true, FinishReason: chatbot.FinishReason(resp.Trailer.Get(relay.TrailerFinish))}, nil)
		default:
			yield(chatbot.Chunk{}, fmt.Errorf("%w: no %s or %s trailer", ErrFormat, relay.TrailerFinish, relay.TrailerError))
		}
	}
}
