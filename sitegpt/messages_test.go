package sitegpt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func TestSendMessageRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  sitegpt.MessageRequest
		body string
	}{
		{
			name: "user message in a new thread",
			req:  sitegpt.MessageRequest{Message: "What can you do ?"},
			body: `{"message":"What can you do ?","from":"USER"}`,
		},
		{
			name: "agent message",
			req: sitegpt.MessageRequest{Message: "Hi, I am Ann", ThreadID: "t/1", From: sitegpt.FromAgent,
				AgentName: "Ann", IconURL: "https://example.com/ann.png"},
			body: `{"message":"Hi, I am Ann","threadId":"t/1","from":"AGENT","agentName":"Ann","iconUrl":"https://example.com/ann.png"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, sitegpttest.Config{}, chatbot.WithUserAgent("test/1"))
			_, err := c.SendMessage(t.Context(), tt.req)
			require.NoError(t, err)

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/message", r.Path)
			assert.Empty(t, r.Query)
			assert.Equal(t, "Bearer "+srv.APIKey(), r.Header.Get("Authorization"))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			assert.Equal(t, "test/1 chatbot-go/"+chatbot.Version, r.Header.Get("User-Agent"))
			assert.JSONEq(t, tt.body, string(r.Body))
		})
	}
}

func TestSendMessageChatbotIDEscaped(t *testing.T) {
	t.Parallel()
	srv := sitegpttest.NewServer(sitegpttest.Config{ChatbotID: "a b/c"})
	t.Cleanup(srv.Close)
	c, err := sitegpt.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	_, err = c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.NoError(t, err)
	assert.Equal(t, "/api/v0/chatbots/a%20b%2Fc/message", srv.Requests()[0].Path)
}

func TestSendMessageDecodesDocumentedResponse(t *testing.T) {
	t.Parallel()
	c := serveFile(t, http.StatusOK, "200_message.json")

	m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "This is user!!"})
	require.NoError(t, err)
	want := &sitegpt.Message{
		ID:          "376290410396385873",
		Question:    &sitegpt.MessageText{Text: "This is user!!", Timestamp: time.Date(2023, 8, 3, 11, 43, 52, 37718000, time.UTC)},
		Answer:      &sitegpt.MessageText{Text: "This is agent!!", Timestamp: time.Date(2023, 8, 3, 11, 19, 19, 41469000, time.UTC)},
		Sources:     []sitegpt.Source{},
		GPTModel:    "gpt-3.5-turbo",
		Reaction:    "NEUTRAL",
		ThreadID:    "06b3b43c-5651-49a2-b618-d7f24667c1b6",
		MessageType: "AGENT_MESSAGE",
		IconURL:     "https://avatars.githubusercontent.com/u/17903466?s=48&v=4",
		AgentName:   "Test Agent",
		Prompts: []sitegpt.Prompt{
			{ID: "17e23880-386e-492f-960c-4394baec2977", Title: "Prompt 1", Description: "This is the prompt1 description"},
			{ID: "ab0ba301-90c9-4ef2-8ca8-fa579a104386", Title: "Prompt 2", Description: "This is the prompt2 description"},
		},
		SmartPrompts: []string{"First smart prompt", "Second smart prompt", "Third smart prompt"},
		ChatbotID:    "365062873485935184",
	}
	require.NotNil(t, m)
	assert.Contains(t, string(m.Raw), `"gptModel": "gpt-3.5-turbo"`)
	m.Raw = nil
	assert.Equal(t, want, m)
	assert.Equal(t, "This is agent!!", m.Text())
}

func TestSendMessageThreadIDLocations(t *testing.T) {
	t.Parallel()
	t.Run("data.message.threadId from the fake", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, sitegpttest.Config{})
		m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
		require.NoError(t, err)
		require.Equal(t, srv.ThreadIDs(), []string{m.ThreadID})
		assert.Contains(t, string(m.Raw), `"threadId"`)
	})
	t.Run("data.threadId from the fake", func(t *testing.T) {
		t.Parallel()
		srv, c := setup(t, sitegpttest.Config{ThreadIDInData: true})
		m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
		require.NoError(t, err)
		require.Equal(t, srv.ThreadIDs(), []string{m.ThreadID})
		assert.NotContains(t, string(m.Raw), `"threadId"`, "the fake must really omit data.message.threadId")
	})
	t.Run("data.threadId from a fixture", func(t *testing.T) {
		t.Parallel()
		c := serveFile(t, http.StatusOK, "200_message_data_thread_id.json")
		m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
		require.NoError(t, err)
		assert.Equal(t, "7f1c9a52-0d3e-4b8a-9c61-2f5e8d4a1b07", m.ThreadID)
	})
}

func TestSendMessageNullTextsAndMixedSources(t *testing.T) {
	t.Parallel()
	c := serveFile(t, http.StatusOK, "200_message_data_thread_id.json")

	m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.NoError(t, err)
	assert.Nil(t, m.Question)
	assert.Nil(t, m.Answer)
	assert.Equal(t, "", m.Text())
	require.Len(t, m.Sources, 4)
	tests := []struct{ url, title, raw string }{
		{url: "https://example.com/pricing", raw: `"https://example.com/pricing"`},
		{url: "https://example.com/docs", title: "Docs", raw: `{"url": "https://example.com/docs", "title": "Docs", "score": 0.92}`},
		{title: "Untitled", raw: `{"title": "Untitled"}`},
		{raw: `42`},
	}
	for i, tt := range tests {
		assert.Equal(t, tt.url, m.Sources[i].URL, "source %d", i)
		assert.Equal(t, tt.title, m.Sources[i].Title, "source %d", i)
		assert.Equal(t, tt.raw, string(m.Sources[i].Raw), "source %d", i)
	}
}

func TestSendMessageSourcesFromFake(t *testing.T) {
	t.Parallel()
	_, c := setup(t, sitegpttest.Config{Sources: []any{
		"https://example.com/a",
		map[string]any{"url": "https://example.com/b", "title": "B"},
	}})
	m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.NoError(t, err)
	require.Len(t, m.Sources, 2)
	assert.Equal(t, "https://example.com/a", m.Sources[0].URL)
	assert.Equal(t, "", m.Sources[0].Title)
	assert.Equal(t, "https://example.com/b", m.Sources[1].URL)
	assert.Equal(t, "B", m.Sources[1].Title)
}

func TestSourceMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   sitegpt.Source
		want string
	}{
		{name: "raw wins", in: sitegpt.Source{URL: "u", Raw: json.RawMessage(`{"x":1}`)}, want: `{"x":1}`},
		{name: "url only", in: sitegpt.Source{URL: "https://example.com"}, want: `"https://example.com"`},
		{name: "url and title", in: sitegpt.Source{URL: "https://example.com", Title: "T"}, want: `{"url":"https://example.com","title":"T"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.in)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

func TestSendMessageAgentFromFake(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	first, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "I need a human"})
	require.NoError(t, err)

	m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{
		Message: "Hi, I am Ann", ThreadID: first.ThreadID, From: sitegpt.FromAgent, AgentName: "Ann", IconURL: "https://example.com/ann.png",
	})
	require.NoError(t, err)
	assert.Equal(t, first.ThreadID, m.ThreadID)
	assert.Nil(t, m.Question)
	assert.Equal(t, "Hi, I am Ann", m.Text())
	assert.Equal(t, "Ann", m.AgentName)
	assert.Equal(t, "https://example.com/ann.png", m.IconURL)
	assert.Equal(t, "AGENT_MESSAGE", m.MessageType)
	assert.Equal(t, 2, srv.Count())
}

func TestSendMessageValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  sitegpt.MessageRequest
		err  string
	}{
		{name: "agent without thread", req: sitegpt.MessageRequest{Message: "Hi", From: sitegpt.FromAgent}, err: "AGENT needs a thread id"},
		{name: "unknown from", req: sitegpt.MessageRequest{Message: "Hi", From: "BOT"}, err: `from must be "USER" or "AGENT"`},
		{name: "empty message", req: sitegpt.MessageRequest{Message: " "}, err: "message is blank"},
		{name: "NUL in message", req: sitegpt.MessageRequest{Message: "a\x00b"}, err: "NUL"},
		{name: "invalid UTF-8", req: sitegpt.MessageRequest{Message: "a\xffb"}, err: "UTF-8"},
		{name: "message too long", req: sitegpt.MessageRequest{Message: strings.Repeat("é", 100_001)}, err: "limit is 100000"},
		{name: "thread id with newline", req: sitegpt.MessageRequest{Message: "Hi", ThreadID: "a\nb"}, err: "thread id"},
		{name: "blank thread id", req: sitegpt.MessageRequest{Message: "Hi", ThreadID: " ", From: sitegpt.FromAgent}, err: "thread id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, sitegpttest.Config{})
			m, err := c.SendMessage(t.Context(), tt.req)
			assert.Nil(t, m)
			requireInvalid(t, err, tt.err)
			assert.Equal(t, 0, srv.Count(), "nothing may be sent")
		})
	}
}

func TestSendMessageMalformedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, body, err string
	}{
		{name: "not JSON", contentType: "text/plain", body: "ok", err: "decoding 200 response (text/plain)"},
		{name: "no data", contentType: "application/json", body: `{"success":true,"data":null}`, err: "response has no data.message"},
		{name: "data of the wrong type", contentType: "application/json", body: `{"success":true,"data":{"message":[1]}}`, err: "sitegpt: send message: decoding data"},
		{name: "id of the wrong type", contentType: "application/json", body: `{"success":true,"data":{"message":{"id":{}}}}`, err: "sitegpt: send message: decoding data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serveBody(t, http.StatusOK, tt.contentType, []byte(tt.body))
			m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
			assert.Nil(t, m)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			var apiErr *chatbot.Error
			assert.NotErrorAs(t, err, &apiErr)
		})
	}
}
