package customgpt_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/customgpt"
	"github.com/chatbot-go/chatbot/customgpt/customgpttest"
	"github.com/chatbot-go/chatbot/internal/fake"
)

// TestChatCreatesConversationFirst: without a conversation id, Chat
// creates one, sends to its session id and returns it; passing it back
// continues the conversation without creating another.
func TestChatCreatesConversationFirst(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetReply("We are open ", "9 to 5.")
	first, err := c.Chat(t.Context(), chatbot.Request{Message: "When are you open?"})
	require.NoError(t, err)
	convs := srv.Conversations()
	require.Len(t, convs, 1)
	assert.Equal(t, convs[0], first.ConversationID)
	assert.Equal(t, "We are open 9 to 5.", first.Text)
	assert.NotEmpty(t, first.MessageID)

	second, err := c.Chat(t.Context(), chatbot.Request{Message: "And Sundays?", ConversationID: first.ConversationID})
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)
	assert.Len(t, srv.Conversations(), 1, "no second conversation")
	prompts, ok := srv.Prompts(first.ConversationID)
	require.True(t, ok)
	assert.Equal(t, []string{"When are you open?", "And Sundays?"}, prompts)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/api/v1/projects/4242/conversations", reqs[0].Path)
	assert.JSONEq(t, `{}`, string(reqs[0].Body), "no name: CustomGPT names it")
	assert.Equal(t, "/api/v1/projects/4242/conversations/"+first.ConversationID+"/messages", reqs[1].Path)
	assert.Equal(t, "0", reqs[1].Query.Get("stream"), "stream is a query parameter, as the SDK sends it")
	assert.JSONEq(t, `{"prompt":"When are you open?"}`, string(reqs[1].Body))
	assert.Equal(t, "application/json", reqs[1].Header.Get("Accept"))
}

// TestSendMessageFields: every documented field reaches the wire where
// CustomGPT reads it, and nothing else is sent.
func TestSendMessageFields(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	conv, err := c.CreateConversation(t.Context(), "Support")
	require.NoError(t, err)
	m, err := c.SendMessage(t.Context(), customgpt.MessageRequest{
		SessionID: conv.SessionID, Prompt: "Hi", CustomPersona: "You are terse.", ChatbotModel: "gpt-4-o",
		ResponseSource: customgpt.SourceOwnContent, Lang: "de", ExternalID: "ticket-7", NoCache: true,
	})
	require.NoError(t, err)
	assert.Equal(t, "You said: Hi", m.OpenAIResponse)
	assert.Equal(t, "Hi", m.UserQuery)
	assert.Equal(t, conv.SessionID, m.SessionID)
	assert.Equal(t, conv.ID, m.ConversationID)
	r := srv.Requests()[1]
	assert.JSONEq(t, `{"prompt":"Hi","custom_persona":"You are terse.","chatbot_model":"gpt-4-o","response_source":"own_content"}`, string(r.Body))
	assert.Equal(t, "0", r.Query.Get("stream"))
	assert.Equal(t, "de", r.Query.Get("lang"))
	assert.Equal(t, "ticket-7", r.Query.Get("external_id"))
	assert.Equal(t, "no-cache", r.Header.Get("Cache-Control"))
	assert.Contains(t, string(m.Raw), `"external_id":"ticket-7"`)
}

// TestInvalidRequestSendsNothing: the caller's mistakes are refused before
// anything is sent, the conversation's creation included.
func TestInvalidRequestSendsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  customgpt.MessageRequest
	}{
		{"empty prompt", customgpt.MessageRequest{}},
		{"blank prompt", customgpt.MessageRequest{Prompt: " \n"}},
		{"invalid UTF-8", customgpt.MessageRequest{Prompt: "a\xffb"}},
		{"too long", customgpt.MessageRequest{Prompt: strings.Repeat("a", customgpt.MaxMessageChars+1)}},
		{"response source", customgpt.MessageRequest{Prompt: "Hi", ResponseSource: "web"}},
		{"external id too long", customgpt.MessageRequest{Prompt: "Hi", ExternalID: strings.Repeat("x", 129)}},
		{"persona with NUL", customgpt.MessageRequest{Prompt: "Hi", CustomPersona: "a\x00"}},
		{"dot session", customgpt.MessageRequest{Prompt: "Hi", SessionID: ".."}},
		{"blank session", customgpt.MessageRequest{Prompt: "Hi", SessionID: "  "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newFake(t)
			_, err := c.SendMessage(t.Context(), tt.req)
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			_, err = chatbot.Collect(c.SendMessageStream(t.Context(), tt.req))
			require.ErrorIs(t, err, chatbot.ErrInvalidRequest)
			assert.Equal(t, 0, srv.Count())
		})
	}
}

// TestCreditsExhaustedIsQuota: CustomGPT's 429 means the query credits are
// used up: ErrQuotaExceeded, sent once, never retried, even with retries on
// and a Retry-After.
func TestCreditsExhaustedIsQuota(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t, chatbot.WithMaxRetries(3))
	conv, err := c.CreateConversation(t.Context(), "")
	require.NoError(t, err)
	srv.FailNext(1, customgpttest.Failure{Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: conv.SessionID})
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	assert.NotErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Equal(t, customgpttest.CreditsMessage, apiErr.Message)
	assert.Equal(t, "429", apiErr.ProviderCode)
	assert.Equal(t, 2, srv.Count(), "the creation, then the message once")
}

// TestRateLimitMessageIsRateLimit: a 429 whose body speaks of a rate limit
// is one, and is retried after its Retry-After like any other.
func TestRateLimitMessageIsRateLimit(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.RateLimitNext(1, 0)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrRateLimited)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, customgpttest.RateLimitMessage, apiErr.Message)
}

// TestCreateThenFailNamesConversation: a message that fails after the SDK
// created its conversation says which conversation, for Chat and Stream;
// the caller can send to it again once the cause is gone.
func TestCreateThenFailNamesConversation(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.SetCredits(0)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	var convErr *customgpt.ConversationError
	require.ErrorAs(t, err, &convErr)
	convs := srv.Conversations()
	require.Len(t, convs, 1)
	assert.Equal(t, convs[0], convErr.SessionID)
	assert.Contains(t, err.Error(), "conversation "+convs[0]+" was created")
	assert.Contains(t, err.Error(), customgpttest.CreditsMessage)

	_, err = chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi"}))
	require.ErrorIs(t, err, chatbot.ErrQuotaExceeded)
	require.ErrorAs(t, err, &convErr)
	convs = srv.Conversations()
	require.Len(t, convs, 2)
	assert.Equal(t, convs[1], convErr.SessionID)

	srv.SetCredits(1)
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi again", ConversationID: convErr.SessionID})
	require.NoError(t, err)
	assert.Equal(t, convErr.SessionID, reply.ConversationID)
	require.NoError(t, c.DeleteConversation(t.Context(), convs[0]))
	_, ok := srv.Prompts(convs[0])
	assert.False(t, ok, "deleted")
}

// TestCreationFails: when the conversation cannot be created, no message
// is sent and the error is CustomGPT's, naming no conversation.
func TestCreationFails(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	srv.FailNext(1, customgpttest.Failure{Status: http.StatusInternalServerError})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi"})
	require.ErrorIs(t, err, chatbot.ErrServer)
	var convErr *customgpt.ConversationError
	assert.False(t, errors.As(err, &convErr))
	assert.Equal(t, 1, srv.Count())
	assert.Empty(t, srv.Conversations())
}

// TestUnknownConversation: a session id CustomGPT does not know is
// ErrNotFound, and no conversation is created in its place.
func TestUnknownConversation(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t)
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: "no-such-session"})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Conversation not found", apiErr.Message)
	assert.Empty(t, srv.Conversations())
}

// TestServerErrorSentOnce: a 5xx answer to a message is not retried: it
// may have been processed.
func TestServerErrorSentOnce(t *testing.T) {
	t.Parallel()
	c, srv := newFake(t, chatbot.WithMaxRetries(3))
	conv, err := c.CreateConversation(t.Context(), "")
	require.NoError(t, err)
	srv.FailNext(1, customgpttest.Failure{Status: http.StatusBadGateway})
	_, err = c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: conv.SessionID})
	require.ErrorIs(t, err, chatbot.ErrServer)
	assert.Equal(t, 2, srv.Count())
}

// TestErrorInSuccessEnvelope: a 2xx answer whose status is "error" is an
// error, not an empty reply.
func TestErrorInSuccessEnvelope(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, `{"status":"error","data":{"code":500,"message":"Something went wrong"}}`)
	})
	_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session})
	require.ErrorIs(t, err, chatbot.ErrServer)
	var apiErr *chatbot.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Something went wrong", apiErr.Message)
	assert.Equal(t, "500", apiErr.ProviderCode)
	assert.Equal(t, http.StatusOK, apiErr.StatusCode)
}

// TestAnswerWithoutResponse: a 2xx success whose data has no
// "openai_response" (a body that is no answer) is an error carrying the
// body, never an empty reply, from Chat and from a Stream answered with
// JSON, and neither is sent again; a present, empty response is a reply.
func TestAnswerWithoutResponse(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"status":"success","data":{"id":5821,"conversation_id":991}}`,
		`{"status":"success","data":{}}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				requests.Add(1)
				fake.WriteBody(w, http.StatusOK, body)
			})
			reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session})
			assert.Nil(t, reply)
			_, streamErr := chatbot.Collect(c.Stream(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session}))
			for _, err := range []error{err, streamErr} {
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
				assert.Equal(t, http.StatusOK, apiErr.StatusCode)
				assert.Contains(t, apiErr.Message, "no data.openai_response")
				assert.JSONEq(t, body, string(apiErr.Body))
			}
			assert.EqualValues(t, 2, requests.Load(), "a message was sent again")
		})
	}

	c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		fake.WriteBody(w, http.StatusOK, `{"status":"success","data":{"id":5821,"openai_response":""}}`)
	})
	reply, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session})
	require.NoError(t, err)
	assert.Empty(t, reply.Text)
	assert.Equal(t, "5821", reply.MessageID)
}

// TestGoldenErrors: CustomGPT's documented error bodies.
func TestGoldenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		status int
		want   error
		msg    string
	}{
		{"error_credits.json", http.StatusTooManyRequests, chatbot.ErrQuotaExceeded, customgpttest.CreditsMessage},
		{"error_unauthorized.json", http.StatusUnauthorized, chatbot.ErrUnauthorized, customgpttest.UnauthorizedMessage},
		{"error_not_found.json", http.StatusNotFound, chatbot.ErrNotFound, "Conversation not found"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.file)
			var n atomic.Int32
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				n.Add(1)
				fake.WriteBody(w, tt.status, string(body))
			})
			_, err := c.Chat(t.Context(), chatbot.Request{Message: "Hi", ConversationID: session})
			require.ErrorIs(t, err, tt.want)
			var apiErr *chatbot.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.msg, apiErr.Message)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, int32(1), n.Load(), "sent once")
		})
	}
}
