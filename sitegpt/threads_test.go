package sitegpt_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
)

func TestThreadsPagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		threads int
		limit   int
		pages   []string // the page query of each request
		wantLim string
	}{
		{name: "short last page", threads: 45, limit: 0, pages: []string{"1", "2", "3"}, wantLim: "20"},
		{name: "full last page then empty", threads: 40, limit: 0, pages: []string{"1", "2", "3"}, wantLim: "20"},
		{name: "limit 7", threads: 15, limit: 7, pages: []string{"1", "2", "3"}, wantLim: "7"},
		{name: "max limit", threads: 150, limit: 100, pages: []string{"1", "2"}, wantLim: "100"},
		{name: "no threads", threads: 0, limit: 0, pages: []string{"1"}, wantLim: "20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, sitegpttest.Config{})
			want := srv.AddThreads(tt.threads)

			var got []string
			for th, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{Limit: tt.limit}) {
				require.NoError(t, err)
				got = append(got, th.ThreadID)
			}
			if len(want) == 0 {
				want = nil
			}
			assert.Equal(t, want, got)

			reqs := srv.Requests()
			require.Len(t, reqs, len(tt.pages))
			for i, r := range reqs {
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads", r.Path)
				assert.Equal(t, tt.pages[i], r.Query.Get("page"))
				assert.Equal(t, tt.wantLim, r.Query.Get("limit"))
				assert.Empty(t, r.Body)
			}
		})
	}
}

func TestThreadsFields(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	m, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.NoError(t, err)
	_, err = c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Again", ThreadID: m.ThreadID})
	require.NoError(t, err)

	var got []sitegpt.Thread
	for th, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{}) {
		require.NoError(t, err)
		got = append(got, th)
	}
	require.Len(t, got, 1)
	th := got[0]
	assert.Equal(t, m.ThreadID, th.ThreadID)
	assert.Equal(t, 2, th.TotalMessages)
	require.NotNil(t, th.LastMessage)
	assert.Equal(t, "You said: Again", th.LastMessage.Text())
	assert.Equal(t, sitegpt.ModeAI, th.Mode)
	assert.False(t, th.StartedAt.IsZero())
	assert.True(t, th.UpdatedAt.After(th.StartedAt))
	assert.True(t, th.EndedAt.IsZero())
	assert.Contains(t, string(th.Raw), `"totalMessages":2`)
	assert.Equal(t, 3, srv.Count())
}

func TestThreadsBreakStopsFetching(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.AddThreads(30)

	n := 0
	for _, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{Limit: 10}) {
		require.NoError(t, err)
		n++
		if n == 12 {
			break
		}
	}
	assert.Equal(t, 12, n)
	assert.Equal(t, 2, srv.Count(), "page 3 is never fetched")
}

func TestThreadsLimitValidation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	for _, limit := range []int{-1, 101} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			n := 0
			for th, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{Limit: limit}) {
				requireInvalid(t, err, "outside 1 to 100")
				assert.Equal(t, sitegpt.Thread{}, th)
				n++
			}
			assert.Equal(t, 1, n)
		})
	}
	assert.Equal(t, 0, srv.Count())
}

func TestThreadsErrorMidway(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	srv.AddThreads(25)

	var ids []string
	var errs []error
	for th, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, th.ThreadID)
		if len(ids) == 20 {
			srv.FailNext(1, sitegpttest.Failure{Code: string(sitegpt.CodeChatbotFetchForbidden)})
		}
	}
	assert.Len(t, ids, 20)
	require.Len(t, errs, 1, "the error comes once, last")
	assert.ErrorIs(t, errs[0], chatbot.ErrForbidden)
}

func TestThreadsRepeatedPage(t *testing.T) {
	t.Parallel()
	page := `{"success":true,"data":{"threads":[` +
		`{"threadId":"a"},{"threadId":"b"}]}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(page)) // ignores page and limit
	}))
	t.Cleanup(srv.Close)
	c, err := sitegpt.NewClient("test-api-key-0123", "bot", chatbot.WithBaseURL(srv.URL))
	require.NoError(t, err)

	var ids []string
	var last error
	for th, err := range c.Threads(t.Context(), sitegpt.ThreadsOptions{Limit: 2}) {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, th.ThreadID)
	}
	assert.Equal(t, []string{"a", "b"}, ids)
	require.Error(t, last)
	assert.Contains(t, last.Error(), "page 2 repeats page 1")
}

func TestThreadWithMessages(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	first, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Hi"})
	require.NoError(t, err)
	second, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Human please", ThreadID: first.ThreadID})
	require.NoError(t, err)
	agent, err := c.SendMessage(t.Context(), sitegpt.MessageRequest{Message: "Ann here", ThreadID: first.ThreadID, From: sitegpt.FromAgent, AgentName: "Ann"})
	require.NoError(t, err)

	th, err := c.Thread(t.Context(), first.ThreadID)
	require.NoError(t, err)
	r := srv.Requests()[3]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads/"+first.ThreadID, r.Path)

	assert.Equal(t, first.ThreadID, th.ThreadID)
	require.Len(t, th.Messages, 3)
	for i, want := range []*sitegpt.Message{first, second, agent} {
		got := th.Messages[i]
		assert.Contains(t, string(got.Raw), `"messageId"`, "the thread endpoint names the id messageId")
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, want.Question, got.Question)
		assert.Equal(t, want.Answer, got.Answer)
		assert.Equal(t, want.AgentName, got.AgentName)
		assert.Equal(t, want.ThreadID, got.ThreadID)
	}
}

func TestThreadNotFoundAndInvalidID(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})

	th, err := c.Thread(t.Context(), "missing")
	assert.Nil(t, th)
	require.ErrorIs(t, err, chatbot.ErrNotFound)

	for _, id := range []string{"", "..", "a\nb"} {
		_, err := c.Thread(t.Context(), id)
		require.ErrorIs(t, err, chatbot.ErrInvalidRequest, "id %q", id)
	}
	assert.Equal(t, 1, srv.Count())

	_, err = c.Thread(t.Context(), "a/b?c")
	require.ErrorIs(t, err, chatbot.ErrNotFound)
	assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads/a%2Fb%3Fc", srv.Requests()[1].Path)
}

func TestCreateThread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  sitegpt.CreateThreadRequest
		body string
	}{
		{name: "zero", req: sitegpt.CreateThreadRequest{}, body: `{}`},
		{
			name: "every field",
			req:  sitegpt.CreateThreadRequest{ThreadID: "my-thread", Mode: sitegpt.ModeAgent, ChatUserEmail: "ann@example.com"},
			body: `{"threadId":"my-thread","mode":"AGENT","chatUserEmail":"ann@example.com"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, sitegpttest.Config{})
			th, err := c.CreateThread(t.Context(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, srv.ThreadIDs(), []string{th.ThreadID})
			if tt.req.ThreadID != "" {
				assert.Equal(t, tt.req.ThreadID, th.ThreadID)
			}
			if tt.req.Mode != "" {
				assert.Equal(t, tt.req.Mode, th.Mode)
			}
			if tt.req.ChatUserEmail != "" {
				require.NotNil(t, th.ChatUser)
				assert.Equal(t, tt.req.ChatUserEmail, th.ChatUser.Email)
			}
			r := srv.Requests()[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads", r.Path)
			assert.JSONEq(t, tt.body, string(r.Body))
		})
	}
}

func TestCreateThreadResponseShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		req        sitegpt.CreateThreadRequest
		want       string
		err        string
	}{
		{name: "data.thread", body: `{"success":true,"data":{"thread":{"threadId":"t1"}}}`, want: "t1"},
		{name: "data.threadId", body: `{"success":true,"data":{"threadId":"t2"}}`, want: "t2"},
		{name: "the requested id", body: `{"success":true,"data":null}`, req: sitegpt.CreateThreadRequest{ThreadID: "t3"}, want: "t3"},
		{name: "no id at all", body: `{"success":true,"data":{}}`, err: "sitegpt: create thread: response has no thread id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := serveBody(t, http.StatusOK, "application/json", []byte(tt.body))
			th, err := c.CreateThread(t.Context(), tt.req)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, th.ThreadID)
		})
	}
}

func TestUpdateThread(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	id := srv.AddThreads(1)[0]

	th, err := c.UpdateThread(t.Context(), id, sitegpt.UpdateThreadRequest{
		Mode:         sitegpt.ModeAgent,
		WebhookURL:   "https://example.com/hook",
		WebhookToken: "hook-token",
		ChatUser:     &sitegpt.ChatUser{Email: "ann@example.com", Name: "Ann", PhoneNumber: "+3212345678"},
	})
	require.NoError(t, err)
	assert.Equal(t, id, th.ThreadID)
	assert.Equal(t, sitegpt.ModeAgent, th.Mode)
	assert.Equal(t, &sitegpt.ChatUser{Email: "ann@example.com", Name: "Ann", PhoneNumber: "+3212345678"}, th.ChatUser)

	r := srv.Requests()[0]
	assert.Equal(t, http.MethodPatch, r.Method)
	assert.Equal(t, "/api/v0/chatbots/"+srv.ChatbotID()+"/threads/"+id, r.Path)
	assert.JSONEq(t, `{"mode":"AGENT","webhookUrl":"https://example.com/hook","webhookToken":"hook-token",
		"chatUser":{"email":"ann@example.com","name":"Ann","phoneNumber":"+3212345678"}}`, string(r.Body))

	got, err := c.Thread(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, sitegpt.ModeAgent, got.Mode)

	_, err = c.UpdateThread(t.Context(), "missing", sitegpt.UpdateThreadRequest{Mode: sitegpt.ModeAI})
	require.ErrorIs(t, err, chatbot.ErrNotFound)
}

func TestThreadRequestValidation(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, sitegpttest.Config{})
	tests := []struct {
		name string
		call func() error
		err  string
	}{
		{name: "empty update", call: func() error {
			_, err := c.UpdateThread(t.Context(), "t", sitegpt.UpdateThreadRequest{})
			return err
		}, err: "nothing to update"},
		{name: "update unknown mode", call: func() error {
			_, err := c.UpdateThread(t.Context(), "t", sitegpt.UpdateThreadRequest{Mode: "HUMAN"})
			return err
		}, err: `mode must be "AI" or "AGENT"`},
		{name: "update empty id", call: func() error {
			_, err := c.UpdateThread(t.Context(), "", sitegpt.UpdateThreadRequest{Mode: sitegpt.ModeAI})
			return err
		}, err: "empty id"},
		{name: "create unknown mode", call: func() error {
			_, err := c.CreateThread(t.Context(), sitegpt.CreateThreadRequest{Mode: "ai"})
			return err
		}, err: `mode must be "AI" or "AGENT"`},
		{name: "create bad id", call: func() error {
			_, err := c.CreateThread(t.Context(), sitegpt.CreateThreadRequest{ThreadID: ".."})
			return err
		}, err: "thread id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireInvalid(t, tt.call(), tt.err)
		})
	}
	assert.Equal(t, 0, srv.Count())
}
