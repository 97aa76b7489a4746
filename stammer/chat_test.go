package stammer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/stammer"
	"github.com/chatbot-go/chatbot/stammer/stammertest"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// sentBody decodes the JSON body of the i-th request the fake received.
func sentBody(t *testing.T, srv *stammertest.Server, i int) map[string]any {
	t.Helper()
	reqs := srv.Requests()
	require.Greater(t, len(reqs), i)
	var m map[string]any
	require.NoError(t, json.Unmarshal(reqs[i].Body, &m))
	return m
}

func TestChatRequest(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})

	reply, err := bot.Chat(t.Context(), chatbot.Request{
		Message:        "What are your opening hours?",
		ConversationID: "contact-42",
		User:           chatbot.User{ID: "ignored", Name: "Ana", Email: "ana@example.com"},
		Metadata:       map[string]string{"source": "test"},
	})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/en/chatbot/api/v1/message/", got.Path)
	assert.Equal(t, "Token "+srv.APIKey(), got.Header.Get("Authorization"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, map[string]any{
		"chatbot_uuid": srv.ChatbotID(),
		"query":        "What are your opening hours?",
		"user_key":     "contact-42",
	}, sentBody(t, srv, 0))

	assert.Equal(t, `Answer 1 to "What are your opening hours?"`, reply.Text)
	assert.Equal(t, "contact-42", reply.ConversationID)
	assert.Equal(t, "1", reply.MessageID)
	assert.Nil(t, reply.RateLimit)
	assert.JSONEq(t, `{"message": "Chatbot successfully answered.", "data": {"answer": "Answer 1 to \"What are your opening hours?\"", "chat_id": 1}}`, string(reply.Raw))
}

func TestChatUserKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     chatbot.Request
		wantKey string // empty: a random UUID v4
	}{
		{name: "conversation id", req: chatbot.Request{ConversationID: "conv-1"}, wantKey: "conv-1"},
		{name: "conversation id wins over user id", req: chatbot.Request{ConversationID: "conv-2", User: chatbot.User{ID: "user-2"}}, wantKey: "conv-2"},
		{name: "user id", req: chatbot.Request{User: chatbot.User{ID: "user-3"}}, wantKey: "user-3"},
		{name: "random", req: chatbot.Request{User: chatbot.User{Name: "No Id"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			first := tt.req
			first.Message = "first"
			reply, err := bot.Chat(t.Context(), first)
			require.NoError(t, err)
			key := sentBody(t, srv, 0)["user_key"]
			if tt.wantKey != "" {
				assert.Equal(t, tt.wantKey, key)
			} else {
				assert.Regexp(t, uuidV4, key)
			}
			assert.Equal(t, key, reply.ConversationID)

			// Passing the conversation id back continues the conversation.
			next, err := bot.Chat(t.Context(), chatbot.Request{Message: "second", ConversationID: reply.ConversationID})
			require.NoError(t, err)
			assert.Equal(t, reply.ConversationID, next.ConversationID)
			assert.Equal(t, `Answer 2 to "second"`, next.Text)
			assert.Equal(t, key, sentBody(t, srv, 1)["user_key"])
			assert.Len(t, srv.History(reply.ConversationID), 2)
		})
	}
}

func TestChatRandomUserKeysDiffer(t *testing.T) {
	t.Parallel()
	_, bot := setup(t, stammertest.Config{})
	a, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	b, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	require.NoError(t, err)
	assert.NotEqual(t, a.ConversationID, b.ConversationID)
	assert.Equal(t, `Answer 1 to "hi"`, b.Text, "a fresh key starts a fresh conversation")
}

func TestChatWhiteLabelLocale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		base func(srvURL string) string
	}{
		{name: "with trailing slash", base: func(u string) string { return u }},
		{name: "without trailing slash", base: func(u string) string { return strings.TrimSuffix(u, "/") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := stammertest.NewServer(stammertest.Config{Locale: "pt", APIKey: "agency-token"})
			t.Cleanup(srv.Close)
			require.True(t, strings.HasSuffix(srv.URL, "/pt/"))
			bot, err := stammer.NewClient("agency-token", srv.ChatbotID(), chatbot.WithBaseURL(tt.base(srv.URL)))
			require.NoError(t, err)

			reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "Olá", ConversationID: "c1"})
			require.NoError(t, err)
			assert.Equal(t, `Answer 1 to "Olá"`, reply.Text)
			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "/pt/chatbot/api/v1/message/", reqs[0].Path)
			assert.Equal(t, "Token agency-token", reqs[0].Header.Get("Authorization"))
		})
	}
}

func TestChatSuccessStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusCreated, http.StatusAccepted} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			srv.SetStatus(status)
			resp, err := bot.Message(t.Context(), stammer.MessageRequest{Query: "hello", UserKey: "u"})
			require.NoError(t, err)
			assert.Equal(t, status, resp.StatusCode)
			assert.Equal(t, `Answer 1 to "hello"`, resp.Answer)

			reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "again", ConversationID: "u"})
			require.NoError(t, err)
			assert.Equal(t, `Answer 2 to "again"`, reply.Text)
			assert.Equal(t, "2", reply.MessageID)
		})
	}
}

func TestChatQueryLimit(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})

	ok := strings.Repeat("é", stammer.MaxMessageChars) // 5000 characters, 10000 bytes
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: ok, ConversationID: "long"})
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("Answer 1 to %q", ok), reply.Text)
	require.Equal(t, 1, srv.Count())

	tooLong := strings.Repeat("é", stammer.MaxMessageChars+1)
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: tooLong, ConversationID: "long"})
	apiErr := requireAPIError(t, chatbot.ErrInvalidRequest, err)
	assert.Equal(t, 0, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "5001")

	var errs []error
	for chunk, err := range bot.Stream(t.Context(), chatbot.Request{Message: tooLong}) {
		assert.Equal(t, chatbot.Chunk{}, chunk)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	requireAPIError(t, chatbot.ErrInvalidRequest, errs[0])
	assert.Equal(t, 1, srv.Count(), "nothing sent for a query over the limit")
}

func TestChatRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  stammer.MessageRequest
	}{
		{name: "empty query", req: stammer.MessageRequest{Query: ""}},
		{name: "blank query", req: stammer.MessageRequest{Query: " \n\t"}},
		{name: "NUL in query", req: stammer.MessageRequest{Query: "a\x00b"}},
		{name: "invalid UTF-8 query", req: stammer.MessageRequest{Query: "a\xffb"}},
		{name: "blank user key", req: stammer.MessageRequest{Query: "hi", UserKey: "  "}},
		{name: "NUL in user key", req: stammer.MessageRequest{Query: "hi", UserKey: "a\x00"}},
		{name: "invalid UTF-8 prompt", req: stammer.MessageRequest{Query: "hi", CustomBaseSystemPrompt: "\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			_, err := bot.Message(t.Context(), tt.req)
			apiErr := requireAPIError(t, chatbot.ErrInvalidRequest, err)
			assert.Equal(t, 0, apiErr.StatusCode)
			assert.Equal(t, 0, srv.Count())
		})
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	resp, err := bot.Message(t.Context(), stammer.MessageRequest{
		Query:                  "Summarise our refund policy",
		UserKey:                "crm-contact-7",
		CustomBaseSystemPrompt: "You are terse.",
	})
	require.NoError(t, err)
	assert.Equal(t, "Chatbot successfully answered.", resp.Message)
	assert.Equal(t, `Answer 1 to "Summarise our refund policy"`, resp.Answer)
	assert.Equal(t, "1", resp.ChatID)
	assert.Equal(t, "crm-contact-7", resp.UserKey)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, resp.Raw)
	assert.Equal(t, map[string]any{
		"chatbot_uuid":              srv.ChatbotID(),
		"query":                     "Summarise our refund policy",
		"user_key":                  "crm-contact-7",
		"custom_base_system_prompt": "You are terse.",
	}, sentBody(t, srv, 0))
	history := srv.History("crm-contact-7")
	require.Len(t, history, 1)
	assert.Equal(t, "You are terse.", history[0].CustomBaseSystemPrompt)
}

func TestMessageRandomUserKey(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	resp, err := bot.Message(t.Context(), stammer.MessageRequest{Query: "hi"})
	require.NoError(t, err)
	assert.Regexp(t, uuidV4, resp.UserKey)
	assert.Equal(t, resp.UserKey, sentBody(t, srv, 0)["user_key"])
}

// readTestdata returns the bytes of testdata/message/name.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "message", name))
	require.NoError(t, err)
	return b
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failure     stammertest.Failure
		want        error
		wantMessage string
		wantRetry   time.Duration
	}{
		{name: "field errors", failure: stammertest.Failure{Status: 400, Body: string(readTestdata(t, "400_field_errors.json"))},
			want: chatbot.ErrInvalidRequest, wantMessage: "The provided parameters are not valid: chatbot_uuid: This field is required.; query: Ensure this field has no more than 5000 characters."},
		{name: "error field", failure: stammertest.Failure{Status: 400, Body: string(readTestdata(t, "400_error_field.json"))},
			want: chatbot.ErrInvalidRequest, wantMessage: "Chatbot is disabled."},
		{name: "invalid token", failure: stammertest.InvalidToken(), want: chatbot.ErrUnauthorized, wantMessage: "Invalid token."},
		{name: "no credentials", failure: stammertest.NoCredentials(), want: chatbot.ErrUnauthorized, wantMessage: "Authentication credentials were not provided."},
		{name: "forbidden", failure: stammertest.Forbidden(), want: chatbot.ErrForbidden, wantMessage: "You do not have permission to perform this action."},
		{name: "not found", failure: stammertest.NotFound(), want: chatbot.ErrNotFound, wantMessage: "Not found."},
		{name: "402", failure: stammertest.NoCredits(), want: chatbot.ErrQuotaExceeded, wantMessage: "You do not have enough credits to send this message."},
		{name: "credits message on 403", failure: stammertest.Failure{Status: 403, Body: string(readTestdata(t, "403_credits_message.json"))},
			want: chatbot.ErrQuotaExceeded, wantMessage: "Your agency has no credits left."},
		{name: "credits message on 400", failure: stammertest.Failure{Status: 400, Body: `{"error": "Not enough credits."}`},
			want: chatbot.ErrQuotaExceeded, wantMessage: "Not enough credits."},
		{name: "throttled", failure: stammertest.Throttled(), want: chatbot.ErrRateLimited,
			wantMessage: "Request was throttled. Expected available in 1 second.", wantRetry: time.Second},
		{name: "500", failure: stammertest.ServerError(), want: chatbot.ErrServer, wantMessage: "A server error occurred."},
		{name: "500 html", failure: stammertest.Failure{Status: 500, Body: string(readTestdata(t, "500_html.html"))}, want: chatbot.ErrServer},
		{name: "502 empty", failure: stammertest.Failure{Status: 502}, want: chatbot.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, bot := setup(t, stammertest.Config{})
			srv.FailNext(2, tt.failure)

			_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
			apiErr := requireAPIError(t, tt.want, err)
			assert.Equal(t, tt.failure.Status, apiErr.StatusCode)
			assert.Equal(t, tt.wantMessage, apiErr.Message)
			assert.Equal(t, tt.wantRetry, apiErr.RetryAfter)
			assert.Equal(t, tt.failure.Body, string(apiErr.Body))

			var errs []error
			for _, err := range bot.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			requireAPIError(t, tt.want, errs[0])
			assert.Equal(t, 2, srv.Count(), "a failed message is not resent")
		})
	}
}

func TestChatUnknownChatbot(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	bot, err := stammer.NewClient(srv.APIKey(), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	apiErr := requireAPIError(t, chatbot.ErrNotFound, err)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
}

func TestChatWrongToken(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	const token = "wrong-secret-token"
	bot, err := stammer.NewClient(token, srv.ChatbotID(), chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	apiErr := requireAPIError(t, chatbot.ErrUnauthorized, err)
	assert.Equal(t, "Invalid token.", apiErr.Message)
	assert.NotContains(t, err.Error(), token)
}

func TestChatRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	srv.FailNext(1, stammertest.Failure{Status: 401, Body: `{"detail": "Invalid token ` + srv.APIKey() + `."}`})
	_, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi"})
	apiErr := requireAPIError(t, chatbot.ErrUnauthorized, err)
	assert.NotContains(t, err.Error(), srv.APIKey())
	assert.NotContains(t, string(apiErr.Body), srv.APIKey())
}

func TestChatRetriesThrottled(t *testing.T) {
	t.Parallel()
	srv := stammertest.NewServer(stammertest.Config{})
	t.Cleanup(srv.Close)
	bot, err := stammer.NewClient(srv.APIKey(), srv.ChatbotID(), chatbot.WithBaseURL(srv.URL), chatbot.WithMaxRetries(1))
	require.NoError(t, err)
	srv.FailNext(1, stammertest.Throttled()) // Retry-After: 1 (second)

	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "k"})
	require.NoError(t, err)
	assert.Equal(t, `Answer 1 to "hi"`, reply.Text)
	assert.Equal(t, 2, srv.Count())
	assert.Len(t, srv.History("k"), 1, "the refused message was processed once")
}

func TestChatSuccessBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file        string
		status      int
		wantText    string
		wantID      string
		wantErr     error // a sentinel the error must match; nil: a decoding error
		wantSuccess bool
		wantHTML    bool // an HTML page: a *chatbot.Error with CodeUnknown
	}{
		{file: "200_success.json", status: 200, wantText: "Hello! How can I help?", wantID: "634", wantSuccess: true},
		{file: "201_string_chat_id.json", status: 201, wantText: "Olá!", wantID: "c-91", wantSuccess: true},
		{file: "202_null_fields.json", status: 202, wantSuccess: true},
		{file: "200_no_data_credits.json", status: 200, wantErr: chatbot.ErrQuotaExceeded},
		{file: "200_html.html", status: 200, wantHTML: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.file)
			bot := setupHandler(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			})
			reply, err := bot.Chat(t.Context(), chatbot.Request{Message: "hi", ConversationID: "k"})
			switch {
			case tt.wantSuccess:
				require.NoError(t, err)
				assert.Equal(t, tt.wantText, reply.Text)
				assert.Equal(t, tt.wantID, reply.MessageID)
				assert.Equal(t, "k", reply.ConversationID)
				assert.Equal(t, body, []byte(reply.Raw))
			case tt.wantHTML:
				var apiErr *chatbot.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, chatbot.CodeUnknown, apiErr.Code)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				assert.Nil(t, reply)
			case tt.wantErr != nil:
				apiErr := requireAPIError(t, tt.wantErr, err)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				assert.Nil(t, reply)
			default:
				require.Error(t, err)
				var apiErr *chatbot.Error
				assert.False(t, errors.As(err, &apiErr), "a decoding failure is not a provider error")
				assert.True(t, strings.HasPrefix(err.Error(), "stammer: "), err.Error())
				assert.Nil(t, reply)
			}
		})
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	srv.SetStatus(http.StatusAccepted)

	chunks := bot.Stream(t.Context(), chatbot.Request{Message: "stream me", ConversationID: "s1"})
	assert.Equal(t, 0, srv.Count(), "nothing is sent before the loop starts")

	var got []chatbot.Chunk
	for chunk, err := range chunks {
		require.NoError(t, err)
		got = append(got, chunk)
	}
	assert.Equal(t, []chatbot.Chunk{{Text: `Answer 1 to "stream me"`, ConversationID: "s1", MessageID: "1", Done: true}}, got)

	var errs []error
	for _, err := range chunks {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], chatbot.ErrStreamUsed)
	assert.Equal(t, 1, srv.Count(), "a used stream does not send again")

	reply, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "collect me", ConversationID: "s1"}))
	require.NoError(t, err)
	assert.Equal(t, &chatbot.Reply{Text: `Answer 2 to "collect me"`, ConversationID: "s1", MessageID: "2"}, reply)
}

func TestStreamBreak(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	n := 0
	for range bot.Stream(t.Context(), chatbot.Request{Message: "hi"}) {
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, srv.Count())
}

func TestChatStallCancelled(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	srv.StallNext(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a bound, should the stall never come
	defer cancel()
	go func() {
		select {
		case <-srv.Stalled():
			cancel()
		case <-ctx.Done():
		}
	}()

	_, err := bot.Chat(ctx, chatbot.Request{Message: "hi"})
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-srv.Disconnects():
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the fake never saw the client leave")
	}
	assert.Equal(t, 1, srv.Count(), "a cancelled message is not resent")
}

func TestChatConcurrent(t *testing.T) {
	t.Parallel()
	srv, bot := setup(t, stammertest.Config{})
	const n = 16
	var wg sync.WaitGroup
	replies := make([]*chatbot.Reply, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], errs[i] = bot.Chat(t.Context(), chatbot.Request{Message: fmt.Sprint("q", i), ConversationID: fmt.Sprint("user-", i)})
		}()
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, fmt.Sprintf("Answer 1 to %q", fmt.Sprint("q", i)), replies[i].Text)
		assert.Equal(t, fmt.Sprint("user-", i), replies[i].ConversationID)
	}
	assert.Equal(t, n, srv.Count())
}
