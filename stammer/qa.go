package stammer

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/rest"
)

// QARequest is one question-and-answer pair for [Client.AddQA]. Both fields
// are required: non-blank valid UTF-8 without NUL bytes.
type QARequest struct {
	Question string
	Answer   string
}

// QA is a question-and-answer pair added to the chatbot's knowledge base.
// Stammer does not publish this response's shape: ID is read from "id"
// (at the top level or under "data") where present; Raw keeps the body.
type QA struct {
	ID       string // empty when the response carried none
	Question string // as sent
	Answer   string // as sent
	Message  string // the body's "message", if any

	// Raw is the response body when it is JSON, else nil.
	Raw json.RawMessage
}

type qaBody struct {
	ChatbotUUID string `json:"chatbot_uuid"`
	Question    string `json:"question"`
	Answer      string `json:"answer"`
}

// AddQA adds a question-and-answer pair to the chatbot's knowledge base. It
// is sent once and never retried after it may have been processed. A blank
// question or answer is refused before sending with a *[chatbot.Error] of
// code [chatbot.CodeInvalidRequest]; errors the API reports are
// *[chatbot.Error] too.
//
// See https://docs.stammer.ai/stammer.ai-docs/white-label/white-label-api
func (c *Client) AddQA(ctx context.Context, req QARequest) (*QA, error) {
	if err := c.checkText("question", req.Question); err != nil {
		return nil, err
	}
	if err := c.checkText("answer", req.Answer); err != nil {
		return nil, err
	}
	path := pathQA
	body := qaBody{ChatbotUUID: c.chatbotUUID, Question: req.Question, Answer: req.Answer}
	resp, err := c.rest.Do(ctx, rest.Call{Method: http.MethodPost, Path: path, Body: body}, nil)
	if err != nil {
		return nil, err
	}
	a := ack(resp)
	qa := &QA{Question: req.Question, Answer: req.Answer, Message: a.Message, Raw: a.Raw}
	var f struct {
		ID flexID `json:"id"`
	}
	if json.Unmarshal(unwrap(resp.Body, "data"), &f) == nil {
		qa.ID = string(f.ID)
	}
	return qa, nil
}
