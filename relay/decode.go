package relay

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/chatbot-go/chatbot"
)

// MaxBodyBytes is the largest request body [DecodeJSON] reads.
const MaxBodyBytes = 1 << 20

// body is the JSON that DecodeJSON reads.
type body struct {
	Message        string            `json:"message"`
	ConversationID string            `json:"conversationId"`
	Metadata       map[string]string `json:"metadata"`
	Messages       []uiMessage       `json:"messages"`
}

// uiMessage is a message of the AI SDK's transport body.
type uiMessage struct {
	Role  string `json:"role"`
	Parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

func (m uiMessage) text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// DecodeJSON is the default [Decoder] of [Handler]. It reads a POST body of
// at most [MaxBodyBytes] bytes, of type application/json:
//
//	{"message": "…", "conversationId": "…", "metadata": {"k": "v"}}
//
// or the body the AI SDK's DefaultChatTransport sends, whose "messages"
// array of UI messages gives the message (the text parts of the last one,
// which must be the user's) and the history (the text of the earlier user
// and assistant messages); a "conversationId" set through the transport's
// body option continues a conversation. It returns a *chatbot.Error with
// [chatbot.CodeInvalidRequest] for another method, another content type, a
// larger body, bad JSON or an empty message; the chatbot then checks the
// message itself.
func DecodeJSON(r *http.Request) (chatbot.Request, error) {
	invalid := func(msg string) (chatbot.Request, error) {
		return chatbot.Request{}, &chatbot.Error{Code: chatbot.CodeInvalidRequest, Message: msg}
	}
	if r.Method != http.MethodPost {
		return invalid("send the message with POST")
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return invalid("send the message as application/json")
	}
	var in body
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err := dec.Decode(&in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return invalid("the body is larger than 1 MiB")
		}
		return invalid("the body is not a JSON object")
	}
	req := chatbot.Request{Message: in.Message, ConversationID: in.ConversationID, Metadata: in.Metadata}
	if n := len(in.Messages); n > 0 && req.Message == "" {
		last := in.Messages[n-1]
		if last.Role != string(chatbot.RoleUser) {
			return invalid("the last message is not the user's")
		}
		req.Message = last.text()
		for _, m := range in.Messages[:n-1] {
			if role := chatbot.Role(m.Role); role == chatbot.RoleUser || role == chatbot.RoleAssistant {
				req.History = append(req.History, chatbot.Message{Role: role, Text: m.text()})
			}
		}
	}
	if strings.TrimSpace(req.Message) == "" {
		return invalid("the message is empty")
	}
	return req, nil
}
