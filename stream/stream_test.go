package stream_test

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/chatbot-go/chatbot/stream"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// randomReader returns reads of random sizes from 1 to 17 bytes.
type randomReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (r *randomReader) Read(p []byte) (int, error) {
	n := 1 + r.rnd.IntN(17)
	return r.r.Read(p[:min(n, len(p))])
}

// chunkings returns the same input delivered whole, one byte at a time, and
// in random sizes.
func chunkings(data []byte, seed uint64) map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"whole":  func() io.Reader { return strings.NewReader(string(data)) },
		"1-byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(string(data))) },
		"random": func() io.Reader {
			return &randomReader{r: strings.NewReader(string(data)), rnd: rand.New(rand.NewPCG(seed, seed))}
		},
	}
}

type record struct {
	Events []stream.Event `json:"events"`
	Err    string         `json:"err,omitempty"`
}

func readEvents(r io.Reader) record {
	var rec record
	for ev, err := range stream.Events(r) {
		if err != nil {
			rec.Err = err.Error()
			break
		}
		rec.Events = append(rec.Events, ev)
	}
	return rec
}

func TestEventsGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/events/*.sse")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			want := readEvents(strings.NewReader(string(data)))
			golden := strings.TrimSuffix(f, ".sse") + ".golden"
			got, err := json.MarshalIndent(want, "", "  ")
			require.NoError(t, err)
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			expected, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./stream -update to create it")
			assert.JSONEq(t, string(expected), string(got))
			for name, r := range chunkings(data, 1) {
				assert.Equal(t, want, readEvents(r()), "chunking %s", name)
			}
		})
	}
}

func TestEventsLargeEvent(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	rec := readEvents(strings.NewReader("data: " + big + "\n\n"))
	require.Empty(t, rec.Err)
	require.Len(t, rec.Events, 1)
	assert.Len(t, rec.Events[0].Data, 1<<20, "a 1 MiB event is accepted")

	var last error
	for _, err := range stream.Events(strings.NewReader("data: " + strings.Repeat("x", stream.MaxEventSize) + "\n\n")) {
		last = err
	}
	assert.ErrorIs(t, last, stream.ErrEventTooLarge)
}

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestEventsReportTheReadersError(t *testing.T) {
	t.Parallel()
	cut := errors.New("connection cut")
	for _, data := range []string{"data: a\n\ndata: partial", "data: a\n\n", "data: a\n\nda"} {
		var events []stream.Event
		var last error
		for ev, err := range stream.Events(&failingReader{data: data, err: cut}) {
			if err != nil {
				last = err
				break
			}
			events = append(events, ev)
		}
		assert.ErrorIs(t, last, cut, "%q: go-sse must not mask the transport's error", data)
		assert.Equal(t, []stream.Event{{Data: "a"}}, events)
	}
}

func TestEventsStopWhenConsumerBreaks(t *testing.T) {
	t.Parallel()
	r := &countingReader{r: strings.NewReader(strings.Repeat("data: x\n\n", 1000))}
	for range stream.Events(iotest.OneByteReader(r)) {
		break
	}
	assert.Less(t, r.n, 100, "reading stopped with the loop")
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func readText(r io.Reader) ([]string, error) {
	var out []string
	for s, err := range stream.Text(r) {
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

func TestTextGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/text/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			for name, r := range chunkings(data, 7) {
				pieces, err := readText(r())
				require.NoError(t, err)
				assert.Equal(t, strings.TrimPrefix(string(data), "\uFEFF"), strings.Join(pieces, ""), "chunking %s: bytes kept exactly", name)
				if utf8.Valid(data) {
					for _, p := range pieces {
						assert.True(t, utf8.ValidString(p), "chunking %s: %q splits a character", name, p)
					}
				}
			}
		})
	}
}

func TestTextYieldsEachReadAtOnce(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	next, stop := iterPull(stream.Text(pr))
	defer stop()
	go pw.Write([]byte("Hel"))
	s, err, _ := next()
	require.NoError(t, err)
	assert.Equal(t, "Hel", s, "yielded without waiting for more")
	go pw.Write([]byte("lo \xf0\x9f"))
	s, _, _ = next()
	assert.Equal(t, "lo ", s, "the incomplete emoji is held back")
	go pw.Write([]byte("\x98\x80"))
	s, _, _ = next()
	assert.Equal(t, "\U0001F600", s)
	go pw.CloseWithError(io.ErrUnexpectedEOF)
	_, err, _ = next()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestTextKeepsHeldBytesOnError(t *testing.T) {
	t.Parallel()
	pieces, err := readText(&failingReader{data: "ok \xe2\x82", err: io.ErrUnexpectedEOF})
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "ok \xe2\x82", strings.Join(pieces, ""), "nothing received is lost")
}

func FuzzEvents(f *testing.F) {
	seedFrom(f, "testdata/events/*.sse")
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		var want record
		first := true
		for name, r := range chunkings(data, seed) {
			got := readEvents(r())
			if first {
				want, first = got, false
				continue
			}
			if !assert.Equal(t, want, got, "chunking %s changed the events", name) {
				return
			}
		}
	})
}

func FuzzText(f *testing.F) {
	seedFrom(f, "testdata/text/*.txt")
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		for name, r := range chunkings(data, seed) {
			pieces, err := readText(r())
			require.NoError(t, err)
			require.Equal(t, strings.TrimPrefix(string(data), "\uFEFF"), strings.Join(pieces, ""), "chunking %s", name)
			if utf8.Valid(data) {
				for _, p := range pieces {
					require.True(t, utf8.ValidString(p), "chunking %s split a character", name)
				}
			}
		}
	})
}

func seedFrom(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in %s", pattern)
	}
	for i, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint64(i))
	}
}

func TestTextLargeReadsKeepEarlierPiecesIntact(t *testing.T) {
	t.Parallel()
	// 200 KiB of mixed-width characters, read in large pieces: the pieces
	// handed over without copying must not change as reading goes on.
	data := strings.Repeat("abc é 中文 👋 ", 200<<10/20)
	pieces, err := readText(strings.NewReader(data))
	require.NoError(t, err)
	require.Greater(t, len(pieces), 4)
	assert.Equal(t, data, strings.Join(pieces, ""), "a reused buffer would have overwritten earlier pieces")
	for i, p := range pieces {
		assert.True(t, utf8.ValidString(p), "piece %d splits a character", i)
	}
	var big int
	for _, p := range pieces {
		if len(p) >= 16<<10 {
			big++
		}
	}
	assert.Positive(t, big, "large reads are yielded as large pieces")
}

// TestTextBufferStartsSmallAndGrowsWithTheReads reads a bulk body whose
// reads always fill the buffer: the pieces start at half a KiB, double, and
// reach 32 KiB, and the text is intact, multi-byte characters included.
func TestTextBufferStartsSmallAndGrowsWithTheReads(t *testing.T) {
	body := strings.Repeat("Grüße, 你好 — ", 40_000) // about 700 KB
	var sizes []int
	var got strings.Builder
	for piece, err := range stream.Text(strings.NewReader(body)) {
		require.NoError(t, err)
		sizes = append(sizes, len(piece))
		got.WriteString(piece)
	}
	require.Equal(t, body, got.String())
	assert.LessOrEqual(t, sizes[0], 512, "a stream starts with a small buffer")
	assert.InDelta(t, 32<<10, slices.Max(sizes), utf8.UTFMax, "reads grow to 32 KiB")
	assert.Less(t, slices.Index(sizes, slices.Max(sizes)), 10, "full-size reads within a few reads")
}

// TestTextDropsALeadingByteOrderMark: a byte order mark opening the body is
// not text, whatever the chunking; one later in the body is kept.
func TestTextDropsALeadingByteOrderMark(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{in: "\uFEFFHello \uFEFF", want: "Hello \uFEFF"},
		{in: "\uFEFF", want: ""},
		{in: "\xEF\xBB", want: "\xEF\xBB"}, // half a mark, then the end: kept as the bytes it is
		{in: "a\uFEFF", want: "a\uFEFF"},
	} {
		for name, r := range chunkings([]byte(tt.in), 3) {
			pieces, err := readText(r())
			require.NoError(t, err)
			assert.Equal(t, tt.want, strings.Join(pieces, ""), "%q, chunking %s", tt.in, name)
		}
	}
}
