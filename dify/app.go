package dify

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/rest"
)

// Parameters is an app's configuration as its Service API reports it: what
// to show a user before the first message and which inputs to send.
type Parameters struct {
	OpeningStatement   string
	SuggestedQuestions []string
	// UserInputForm lists the app's variables, in the order of the app's
	// form: the keys [ChatRequest.Inputs] may set.
	UserInputForm []InputField

	// Raw is the whole answer, for the settings the SDK does not map
	// (file_upload, speech_to_text, system_parameters, …).
	Raw json.RawMessage
}

// InputField is one variable of an app's input form.
type InputField struct {
	Type      string   // the control: "text-input", "paragraph", "select", "number", "file", …
	Variable  string   // the key in inputs
	Label     string   // the label shown to users
	Required  bool     // the app refuses a message without it
	MaxLength int      // for text; 0 when unset
	Default   string   // the default value, as text
	Options   []string // for select
}

// UnmarshalJSON decodes Dify's GET parameters answer and keeps it in Raw.
// Each entry of user_input_form is an object with one key, the control
// type, holding the field.
func (p *Parameters) UnmarshalJSON(b []byte) error {
	var w struct {
		OpeningStatement   string                       `json:"opening_statement"`
		SuggestedQuestions []string                     `json:"suggested_questions"`
		UserInputForm      []map[string]json.RawMessage `json:"user_input_form"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Parameters{OpeningStatement: w.OpeningStatement, SuggestedQuestions: w.SuggestedQuestions, Raw: bytes.Clone(b)}
	for _, entry := range w.UserInputForm {
		for typ, raw := range entry {
			var f struct {
				Variable  string          `json:"variable"`
				Label     string          `json:"label"`
				Required  bool            `json:"required"`
				MaxLength int             `json:"max_length"`
				Default   json.RawMessage `json:"default"`
				Options   []string        `json:"options"`
			}
			if json.Unmarshal(raw, &f) != nil {
				continue
			}
			def, ok := dialect.JSONText(f.Default)
			if !ok && string(f.Default) != "null" {
				def = string(f.Default)
			}
			p.UserInputForm = append(p.UserInputForm, InputField{
				Type: typ, Variable: f.Variable, Label: f.Label, Required: f.Required,
				MaxLength: f.MaxLength, Default: def, Options: f.Options,
			})
		}
	}
	return nil
}

// Parameters returns the app's opening statement, suggested questions and
// input form, for a caller deciding what to show and which inputs to send.
// Failures Dify reports are [*chatbot.Error].
//
// See https://docs.dify.ai/en/api-reference/application/get-application-parameters-information.
func (c *Client) Parameters(ctx context.Context) (*Parameters, error) {
	var p Parameters
	if _, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: "parameters"}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AppInfo is an app's name, description and mode.
type AppInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Mode        string   `json:"mode"` // "chat", "agent-chat", "advanced-chat", …
	AuthorName  string   `json:"author_name"`
}

// AppInfo returns the app's name, description, tags and mode, for example
// to check that the key belongs to a chat app (mode "chat", "agent-chat" or
// "advanced-chat") before sending messages. Failures Dify reports are
// [*chatbot.Error].
//
// See https://docs.dify.ai/en/api-reference/application/get-application-basic-information.
func (c *Client) AppInfo(ctx context.Context) (*AppInfo, error) {
	var info AppInfo
	if _, err := c.rest.Do(ctx, rest.Call{Method: http.MethodGet, Path: "info"}, &info); err != nil {
		return nil, err
	}
	return &info, nil
}
