package dialect_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot"
	"github.com/chatbot-go/chatbot/internal/dialect"
	"github.com/chatbot-go/chatbot/internal/fake"
	"github.com/chatbot-go/chatbot/internal/rest"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the decoders' output")

// testKey is the API key of the test client: no error may carry it.
const testKey = "sk-test-0123456789abcdef"

// dirs maps each folder of testdata to the dialect its inputs are in.
var dirs = map[string]dialect.Dialect{
	"ui": dialect.UIMessage, "data": dialect.DataStream, "flowise": dialect.Flowise, "dify": dialect.Dify,
	"openai": dialect.OpenAI, "anthropic": dialect.Anthropic, "quoted": dialect.Quoted, "plain": dialect.Plain,
	"sniff": dialect.Sniff, "customgpt": dialect.CustomGPT,
}

// serveBody starts a server that answers every request with body, in
// writes of size bytes (0: at once), each flushed, and returns a client for
// it.
func serveBody(t *testing.T, header http.Header, body []byte, size int) *rest.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		fake.Writer{WriteSize: size}.Write(r.Context(), w, new(int), body)
	}))
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL)
}

// newClient returns a client of the test provider for the server at url.
func newClient(t *testing.T, url string) *rest.Client {
	t.Helper()
	rc, err := rest.New(rest.Config{
		Provider:       "test",
		DefaultBaseURL: url + "/",
		AuthScheme:     "Bearer",
		Codes:          map[string]chatbot.Code{"PROVIDER_QUOTA_EXCEEDED": chatbot.CodeQuotaExceeded},
	}, testKey, []chatbot.Option{chatbot.WithMaxRetries(0)})
	require.NoError(t, err)
	return rc
}

// stream runs body through the dialect d with [dialect.Run] (or
// [dialect.RunText] for d < 0) and returns every chunk and the error.
func stream(t *testing.T, rc *rest.Client, d dialect.Dialect, opts dialect.Options) ([]chatbot.Chunk, error) {
	t.Helper()
	chunks := open(t, rc, func(resp *rest.Response, body *rest.Body, w *rest.ChunkWriter) error {
		return dialect.Run(rc, body, w, dialect.New(d, resp.Header), opts)
	})
	var (
		got    []chatbot.Chunk
		gotErr error
	)
	for ch, err := range chunks {
		if err != nil {
			require.NoError(t, gotErr, "an error comes once, last")
			gotErr = err
			continue
		}
		require.NoError(t, gotErr, "nothing after the error")
		got = append(got, ch)
	}
	return got, gotErr
}

// open returns a stream of rc that sends one request and hands its
// response to read.
func open(t *testing.T, rc *rest.Client, read func(*rest.Response, *rest.Body, *rest.ChunkWriter) error) iter.Seq2[chatbot.Chunk, error] {
	return rc.Stream(t.Context(), func(ctx context.Context, g *rest.Guard, w *rest.ChunkWriter) error {
		resp, body, err := g.Open(ctx, rest.Call{Method: http.MethodPost, Path: "chat", Accept: "text/event-stream"})
		if err != nil {
			return err
		}
		defer body.Close()
		w.SetResponse(resp)
		return read(resp, body, w)
	})
}

// golden is what a stream decodes to, as stored in a .golden file.
type golden struct {
	Chunks []goldenChunk `json:"chunks"`
	Err    string        `json:"error,omitempty"`
	Reply  string        `json:"reply"`           // the text chatbot.Collect assembles
	Errors []string      `json:"is,omitempty"`    // the sentinels the error wraps
	Code   chatbot.Code  `json:"code,omitempty"`  // the error's Code, when it is a *chatbot.Error
	PCode  string        `json:"pcode,omitempty"` // the error's ProviderCode
}

type goldenChunk struct {
	Text           string               `json:"text,omitempty"`
	Replace        bool                 `json:"replace,omitempty"`
	ConversationID string               `json:"conv,omitempty"`
	MessageID      string               `json:"msg,omitempty"`
	Sources        []chatbot.Source     `json:"sources,omitempty"`
	Usage          *chatbot.Usage       `json:"usage,omitempty"`
	FinishReason   chatbot.FinishReason `json:"finish,omitempty"`
	Actions        []chatbot.Action     `json:"actions,omitempty"`
	Done           bool                 `json:"done,omitempty"`
}

// sentinels are the errors a golden file names by their text.
var sentinels = []error{io.ErrUnexpectedEOF, dialect.ErrNoReply, dialect.ErrTruncated, dialect.ErrAborted,
	chatbot.ErrActionRequired}

func toGolden(chunks []chatbot.Chunk, err error) golden {
	g := golden{Chunks: []goldenChunk{}}
	for _, ch := range chunks {
		g.Chunks = append(g.Chunks, goldenChunk{Text: ch.Text, Replace: ch.Replace, ConversationID: ch.ConversationID,
			MessageID: ch.MessageID, Sources: ch.Sources, Usage: ch.Usage, FinishReason: ch.FinishReason,
			Actions: ch.Actions, Done: ch.Done})
	}
	reply, collectErr := chatbot.Collect(func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
		if err != nil {
			yield(chatbot.Chunk{}, err)
		}
	})
	g.Reply = reply.Text
	if collectErr != nil {
		g.Err = collectErr.Error()
	}
	for _, s := range sentinels {
		if errors.Is(collectErr, s) {
			g.Errors = append(g.Errors, s.Error())
		}
	}
	var apiErr *chatbot.Error
	if errors.As(collectErr, &apiErr) {
		g.Code, g.PCode = apiErr.Code, apiErr.ProviderCode
	}
	return g
}

// goldenJSON is the .golden form of a stream's chunks and error.
func goldenJSON(t *testing.T, chunks []chatbot.Chunk, err error) string {
	t.Helper()
	if err != nil {
		assert.NotContains(t, err.Error(), testKey)
	}
	b, err := json.MarshalIndent(toGolden(chunks, err), "", "  ")
	require.NoError(t, err)
	return string(b) + "\n"
}

// TestGolden runs every input of testdata/<dialect>/ through its dialect,
// written at once, in 1-byte and in 7-byte writes, and compares what the
// stream yields with the .golden file beside it.
func TestGolden(t *testing.T) {
	t.Parallel()
	for dir, d := range dirs {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.*"))
		require.NoError(t, err)
		for _, file := range files {
			if strings.HasSuffix(file, ".golden") {
				continue
			}
			name := strings.TrimSuffix(file, filepath.Ext(file))
			t.Run(dir+"/"+filepath.Base(name), func(t *testing.T) {
				t.Parallel()
				body, err := os.ReadFile(file)
				require.NoError(t, err)
				header := http.Header{"Content-Type": {"text/event-stream"}}
				if d == dialect.DataStream {
					header = http.Header{"Content-Type": {"text/plain"}, "X-Vercel-Ai-Data-Stream": {"v1"}}
				}
				chunks, err := stream(t, serveBody(t, header, body, 0), d, dialect.Options{})
				got := goldenJSON(t, chunks, err)
				if *update {
					require.NoError(t, os.WriteFile(name+".golden", []byte(got), 0o644))
				}
				want, err := os.ReadFile(name + ".golden")
				require.NoError(t, err, "run go test -update and review the .golden file")
				assert.JSONEq(t, string(want), got)
				for _, size := range []int{1, 7} {
					chunks, err := stream(t, serveBody(t, header, body, size), d, dialect.Options{})
					assert.JSONEq(t, string(want), goldenJSON(t, chunks, err), "in %d-byte writes", size)
				}
			})
		}
	}
}

func TestFinishReason(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wire    string
		pending bool
		want    chatbot.FinishReason
	}{
		{"", false, chatbot.FinishUnknown},
		{"stop", false, chatbot.FinishComplete},
		{" End_Turn ", false, chatbot.FinishComplete},
		{"max_tokens", false, chatbot.FinishLength},
		{"content_filter", false, chatbot.FinishContentFilter},
		{"refusal", false, chatbot.FinishContentFilter},
		{"error", false, chatbot.FinishError},
		{"tool-calls", true, chatbot.FinishActionRequired},
		{"tool_calls", true, chatbot.FinishActionRequired},
		{"tool-calls", false, chatbot.FinishOther},
		{"stop", true, chatbot.FinishComplete},
		{"something-new", false, chatbot.FinishOther},
	} {
		assert.Equal(t, tt.want, dialect.FinishReason(tt.wire, tt.pending), "%q, pending %v", tt.wire, tt.pending)
	}
}
