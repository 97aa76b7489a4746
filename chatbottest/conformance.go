package chatbottest

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatbot-go/chatbot"
)

// promptly bounds how long an early break or a cancellation may take to
// end a call and reach the server: far above any machine's latency, it
// fails only an implementation that does not give the call up.
const promptly = 10 * time.Second

// Server is what [Run] needs of the server behind a Chatbot to check, at
// the wire, that a cancelled call and an early break give the connection
// up. Every provider fake (the Server of workspacetest, userdesktest,
// stammertest, sitegpttest, chatbasetest, difytest, flowisetest and
// customgpttest) implements it, and so does [Bot]. If it also has a StallAfter(n int)
// method, as the fakes of streaming providers and Bot do, Run holds a
// stream after its first chunk to check breaks and cancellation midway.
type Server interface {
	SetReply(parts ...string)
	StallNext(n int)
	Stalled() <-chan struct{}
	Disconnects() <-chan struct{}
}

// Target is what one check of [Run] works on: a Chatbot and the server it
// talks to.
type Target struct {
	// Bot is the Chatbot under test. What its [chatbot.InfoOf] claims in
	// Capabilities decides what the checks expect.
	Bot chatbot.Chatbot
	// Server is the fake server Bot talks to (a provider fake, or Bot
	// itself for a [Bot]). Nil skips the checks of breaks and cancellation
	// at the wire, which then pass whatever Stream does with its
	// connection; set it whenever there is one. A Chatbot whose
	// Capabilities claim Streaming, Sources or Usage needs a Server with
	// the methods [Run] lists.
	Server Server
}

// NewTarget returns a ready [Target] for one check: typically a provider
// client pointed at a new fake server of that provider, closed with
// t.Cleanup.
type NewTarget = func(t *testing.T) Target

// The optional parts of a [Server], which a fake offers when its
// provider's wire can carry what they script.
type (
	// staller holds a stream midway: the fakes of streaming providers.
	staller interface{ StallAfter(n int) }

	// SourceSetter is a Server whose every later reply carries sources, in
	// the provider's wire form (the fields the wire has no place for are
	// left out); no sources restores none. [Run] gives it sources whose
	// ids are integers; a fake may refuse ids its wire cannot carry (as
	// customgpttest's does: CustomGPT's citation ids are integers).
	SourceSetter interface {
		SetSources(sources ...chatbot.Source)
	}

	// UsageSetter is a Server whose every later reply reports u in the
	// provider's wire form (the fields the wire has no place for are left
	// out); nil makes them report none, even where the fake's default
	// reports some (as the provider's own replies always do).
	UsageSetter interface{ SetUsage(u *chatbot.Usage) }

	// FinishReasonSetter is a Server whose every later reply ends with r,
	// written as the provider writes it; the empty reason restores the
	// fake's default.
	FinishReasonSetter interface{ SetFinishReason(r chatbot.FinishReason) }
)

// Run is a conformance suite for [chatbot.Chatbot] implementations: it runs
// each of its checks as a subtest named for the promise it holds the
// Chatbot to, so that a failure names the broken promise. newTarget is
// called once per check (some call it more) and must return a ready
// Chatbot and the server it talks to.
//
// Each check is also an exported function (CheckChat, CheckSources, …), so
// that a provider's own tests can run one alone:
//
//	func TestSources(t *testing.T) { chatbottest.CheckSources(t, newTarget) }
//
// What the Chatbot's [chatbot.InfoOf] claims in its Capabilities decides
// what is checked, both ways: a claim must hold (replies carry sources when
// Sources is set), and what is not claimed must not appear (no sources
// when it is not), so that the capability value stays true to the code. A
// fake serving a provider whose Capabilities claim
//
//   - Streaming must have StallAfter(n int), to hold a stream after n
//     chunks (as the fakes of streaming providers and [Bot] do);
//   - Sources must be a [SourceSetter];
//   - Usage must be a [UsageSetter];
//   - FinishReasons may be a [FinishReasonSetter], and then a scripted
//     [chatbot.FinishLength] must come back as such.
//
// Every fake must have the methods of [Server], and SetReply's parts must
// be streamed one piece per part where the provider streams.
//
// A check that waits fails after a bound far above any machine's latency,
// never because the machine is slow.
func Run(t *testing.T, newTarget NewTarget) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newTarget) })
	}
}

// checks are the checks [Run] runs, in order, by subtest name.
var checks = []struct {
	name string
	fn   func(*testing.T, NewTarget)
}{
	{"Chat", CheckChat},
	{"StreamMatchesCollect", CheckStreamMatchesCollect},
	{"Streaming", CheckStreaming},
	{"ContinueConversation", CheckContinueConversation},
	{"StreamIsSingleUse", CheckStreamIsSingleUse},
	{"BreakEarly", CheckBreakEarly},
	{"CancelledContext", CheckCancelledContext},
	{"CancelWhileWaiting", CheckCancelWhileWaiting},
	{"CancelDuringStream", CheckCancelDuringStream},
	{"EmptyMessage", CheckEmptyMessage},
	{"MessageLimit", CheckMessageLimit},
	{"MessageIDs", CheckMessageIDs},
	{"Sources", CheckSources},
	{"Usage", CheckUsage},
	{"FinishReasons", CheckFinishReasons},
}

const question = "What are your opening hours?"

// CheckChat checks that Chat answers with text and a conversation id, and
// with the rate-limit state when the Capabilities claim RateLimitHeaders.
func CheckChat(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	reply, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if reply == nil || reply.Text == "" {
		t.Fatalf("Chat: empty reply %+v", reply)
	}
	if reply.ConversationID == "" {
		t.Errorf("Chat: reply has no ConversationID")
	}
	if chatbot.InfoOf(bot).Capabilities.RateLimitHeaders && reply.RateLimit == nil {
		t.Errorf("Chat: the Capabilities claim RateLimitHeaders, but the reply has no RateLimit")
	}
}

// CheckStreamMatchesCollect checks that Stream's chunks fold to the reply
// [chatbot.Collect] returns (the texts concatenated, restarted by a Replace
// chunk), that the last chunk (and only it) is Done, and that ids stay
// stable once known.
func CheckStreamMatchesCollect(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	var got []chatbot.Chunk
	var text strings.Builder
	for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: question}) {
		if err != nil {
			t.Fatalf("Stream: error after %d chunks: %v", len(got), err)
		}
		got = append(got, ch)
		if ch.Replace {
			text.Reset()
		}
		text.WriteString(ch.Text)
	}
	if len(got) == 0 {
		t.Fatal("Stream: no chunks")
	}
	conv := ""
	for i, ch := range got {
		if ch.Done != (i == len(got)-1) {
			t.Errorf("chunk %d of %d: Done = %v; only the last chunk may be Done", i+1, len(got), ch.Done)
		}
		if conv != "" && ch.ConversationID != conv {
			t.Errorf("chunk %d: ConversationID changed from %q to %q", i+1, conv, ch.ConversationID)
		}
		if ch.ConversationID != "" {
			conv = ch.ConversationID
		}
	}
	if text.Len() == 0 {
		t.Error("Stream: the chunks carry no text")
	}
	reply, err := chatbot.Collect(replay(got))
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if reply.Text != text.String() {
		t.Errorf("Collect text = %q; the chunks concatenate to %q", reply.Text, text.String())
	}
	if reply.ConversationID != conv {
		t.Errorf("Collect ConversationID = %q; the chunks carry %q", reply.ConversationID, conv)
	}

	collected, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: question}))
	if err != nil || collected.Text == "" || collected.ConversationID == "" {
		t.Errorf("Collect(Stream) = %+v, %v; want text and a conversation id", collected, err)
	}
}

// CheckStreaming checks that Stream is what the Capabilities say: when
// they claim Streaming, the first chunk arrives while the server still
// holds the rest of the reply; when they do not, Stream yields the whole
// reply as one final chunk.
func CheckStreaming(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	parts := []string{"First part. ", "Second part."}
	if !chatbot.InfoOf(target.Bot).Capabilities.Streaming {
		if target.Server != nil {
			target.Server.SetReply(parts...)
		}
		var got []chatbot.Chunk
		for ch, err := range target.Bot.Stream(t.Context(), chatbot.Request{Message: question}) {
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			got = append(got, ch)
		}
		if len(got) != 1 || !got[0].Done || got[0].Text == "" {
			t.Fatalf("Stream of a provider that does not claim Streaming: %d chunks %+v; want the whole reply as one Done chunk", len(got), got)
		}
		if target.Server != nil && got[0].Text != strings.Join(parts, "") {
			t.Errorf("Stream's one chunk = %q; want %q", got[0].Text, strings.Join(parts, ""))
		}
		return
	}
	if !hold(target.Server) {
		t.Fatal("the Capabilities claim Streaming, but the Target has no Server with a StallAfter(n int) method to hold a stream midway")
	}
	for ch, err := range target.Bot.Stream(t.Context(), chatbot.Request{Message: question}) {
		if err != nil {
			t.Fatalf("Stream: %v before its first chunk, while the server held the second part", err)
		}
		if ch.Done || ch.Text != parts[0] {
			t.Errorf("first chunk = %+v; want the text %q of the first part, not Done, while the server holds the rest", ch, parts[0])
		}
		break
	}
}

// CheckContinueConversation checks that passing the returned
// ConversationID back continues the conversation, in Chat and in Stream,
// and, when the Capabilities say ids are made by the caller, that a
// caller's id is kept.
func CheckContinueConversation(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	first, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
	if err != nil {
		t.Fatalf("first Chat: %v", err)
	}
	second, err := bot.Chat(t.Context(), chatbot.Request{Message: "And on Sundays?", ConversationID: first.ConversationID})
	if err != nil {
		t.Fatalf("second Chat: %v", err)
	}
	if second.ConversationID != first.ConversationID {
		t.Errorf("continued conversation id = %q; want %q", second.ConversationID, first.ConversationID)
	}
	streamed, err := chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: "Thanks!", ConversationID: first.ConversationID}))
	if err != nil {
		t.Fatalf("Stream in the conversation: %v", err)
	}
	if streamed.ConversationID != first.ConversationID {
		t.Errorf("streamed conversation id = %q; want %q", streamed.ConversationID, first.ConversationID)
	}
	if chatbot.InfoOf(bot).Capabilities.Conversations == chatbot.ConversationCallerMade {
		const mine = "chatbottest-caller-made-1"
		reply, err := bot.Chat(t.Context(), chatbot.Request{Message: question, ConversationID: mine})
		if err != nil {
			t.Fatalf("Chat in a conversation the caller made: %v", err)
		}
		if reply.ConversationID != mine {
			t.Errorf("conversation id = %q; the Capabilities say ids are made by the caller, who chose %q", reply.ConversationID, mine)
		}
	}
}

// CheckStreamIsSingleUse checks that a stream can be ranged only once: the
// second range is an error wrapping [chatbot.ErrStreamUsed], not a second
// message.
func CheckStreamIsSingleUse(t *testing.T, newTarget NewTarget) {
	t.Helper()
	chunks := newTarget(t).Bot.Stream(t.Context(), chatbot.Request{Message: question})
	if _, err := chatbot.Collect(chunks); err != nil {
		t.Fatalf("first range: %v", err)
	}
	var pairs int
	var last error
	for _, err := range chunks {
		pairs++
		last = err
	}
	if pairs != 1 || !errors.Is(last, chatbot.ErrStreamUsed) {
		t.Errorf("second range: %d pairs, last error %v; want only an error wrapping ErrStreamUsed", pairs, last)
	}
}

// CheckBreakEarly checks that breaking out of a stream returns promptly,
// and, while the server holds the rest of the reply, that the server sees
// the client go away (the connection was given up, not kept open).
func CheckBreakEarly(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	held := hold(target.Server)
	done := make(chan int, 1)
	go func() {
		n := 0
		for range target.Bot.Stream(t.Context(), chatbot.Request{Message: question}) {
			n++
			break
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 1 {
			t.Errorf("the loop body ran %d times; want 1", n)
		}
	case <-time.After(promptly):
		t.Fatalf("breaking out of Stream did not return within %s", promptly)
	}
	if held {
		// The server holds the rest of the reply: only a client that
		// gives the connection up ends the request.
		if !observed(target.Server.Disconnects()) {
			t.Errorf("after breaking out of Stream, the server still held the request %s later: the connection was kept", promptly)
		}
	}
}

// CheckCancelledContext checks that an already cancelled context ends both
// Chat and Stream with the context's error.
func CheckCancelledContext(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	refused(t, bot, ctx, chatbot.Request{Message: question}, context.Canceled, "with a cancelled context")
}

// CheckCancelWhileWaiting checks that cancelling Chat or Stream while the
// server holds the request ends the call with the context's error and
// that the server sees its client go away. Without a Server it checks
// nothing that [CheckCancelledContext] does not.
func CheckCancelWhileWaiting(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	if target.Server == nil {
		CheckCancelledContext(t, func(*testing.T) Target { return target })
		return
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Chat", func(ctx context.Context) error {
			_, err := target.Bot.Chat(ctx, chatbot.Request{Message: question})
			return err
		}},
		{"Stream", func(ctx context.Context) error {
			_, err := chatbot.Collect(target.Bot.Stream(ctx, chatbot.Request{Message: question}))
			return err
		}},
	}
	for _, c := range calls {
		target.Server.StallNext(1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.call(ctx) }()
		if !observed(target.Server.Stalled()) {
			cancel()
			t.Fatalf("%s: the server never received the request", c.name)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled while the server held it: %v; want context.Canceled", c.name, err)
			}
		case <-time.After(promptly):
			t.Fatalf("%s cancelled while the server held it did not return within %s: the cancellation was ignored", c.name, promptly)
		}
		if !observed(target.Server.Disconnects()) {
			t.Errorf("%s cancelled: the server still held the request %s later", c.name, promptly)
		}
	}
}

// CheckCancelDuringStream checks that cancelling midway through a stream
// ends it promptly with the context's error and, while the server holds
// the rest of the reply, that the server sees the client go away.
func CheckCancelDuringStream(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	held := hold(target.Server)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var last error
		for _, err := range target.Bot.Stream(ctx, chatbot.Request{Message: question}) {
			cancel() // after the first pair: the rest must end promptly
			last = err
		}
		done <- last
	}()
	select {
	case err := <-done:
		switch {
		case held && !errors.Is(err, context.Canceled):
			t.Errorf("stream cancelled while the server held the rest ended with %v; want context.Canceled", err)
		case !held && err != nil && !errors.Is(err, context.Canceled):
			// Without a held reply, one completed before the
			// cancellation took effect is fine.
			t.Errorf("stream cancelled midway ended with %v; want context.Canceled or a complete reply", err)
		}
	case <-time.After(promptly):
		t.Fatalf("cancelling did not end the stream within %s", promptly)
	}
	if held && !observed(target.Server.Disconnects()) {
		t.Errorf("after cancelling the stream, the server still held the request %s later", promptly)
	}
}

// CheckEmptyMessage checks that an empty message is refused with
// [chatbot.ErrInvalidRequest] by Chat and Stream.
func CheckEmptyMessage(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	refused(t, bot, t.Context(), chatbot.Request{Message: "  "}, chatbot.ErrInvalidRequest, "with an empty message")
	refused(t, bot, t.Context(), chatbot.Request{}, chatbot.ErrInvalidRequest, "with no message")
}

// refused checks that Chat and Stream of bot with ctx and req end in an
// error wrapping want; what says how the call was made.
func refused(t *testing.T, bot chatbot.Chatbot, ctx context.Context, req chatbot.Request, want error, what string) {
	t.Helper()
	if _, err := bot.Chat(ctx, req); !errors.Is(err, want) {
		t.Errorf("Chat %s: %v; want an error wrapping %v", what, err, want)
	}
	var last error
	for _, err := range bot.Stream(ctx, req) {
		last = err
	}
	if !errors.Is(last, want) {
		t.Errorf("Stream %s ended with %v; want an error wrapping %v", what, last, want)
	}
}

// CheckMessageLimit checks the Capabilities' MaxMessageChars: a message of
// that many characters (two-byte ones, so that a limit counted in bytes
// fails) is answered, and one more character is refused by Chat and Stream
// with [chatbot.ErrInvalidRequest]. Without a limit, a message of 10,000
// characters is answered.
func CheckMessageLimit(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	limit := chatbot.InfoOf(bot).Capabilities.MaxMessageChars
	longest := strings.Repeat("é", cmp.Or(limit, 10_000))
	if _, err := bot.Chat(t.Context(), chatbot.Request{Message: longest}); err != nil {
		t.Fatalf("Chat with %d characters (MaxMessageChars %d): %v", utf8.RuneCountInString(longest), limit, err)
	}
	if limit == 0 {
		return
	}
	tooLong := chatbot.Request{Message: longest + "é"}
	refused(t, bot, t.Context(), tooLong, chatbot.ErrInvalidRequest, "with MaxMessageChars+1 characters")
}

// CheckMessageIDs checks that replies, from Chat and from Stream, carry a
// message id exactly when the Capabilities claim MessageIDs.
func CheckMessageIDs(t *testing.T, newTarget NewTarget) {
	t.Helper()
	bot := newTarget(t).Bot
	claimed := chatbot.InfoOf(bot).Capabilities.MessageIDs
	chat, streamed := both(t, bot)
	for _, r := range []struct {
		call  string
		reply *chatbot.Reply
	}{{"Chat", chat}, {"Collect(Stream)", streamed}} {
		if (r.reply.MessageID != "") != claimed {
			t.Errorf("%s: MessageID = %q, and the Capabilities claim MessageIDs %v", r.call, r.reply.MessageID, claimed)
		}
	}
}

// CheckSources checks that replies carry the sources the server sent
// exactly when the Capabilities claim Sources: each field the provider
// fills equal to what the server was told to send (with
// [SourceSetter.SetSources]), in order, none repeated, in Chat and in
// Stream; none when the server sends none. The sources it scripts have
// integer ids ("101"), which every provider's wire can carry.
func CheckSources(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	if !chatbot.InfoOf(target.Bot).Capabilities.Sources {
		absent(t, target.Bot, "Sources", func(r *chatbot.Reply) bool { return len(r.Sources) > 0 })
		return
	}
	setter, ok := target.Server.(SourceSetter)
	if !ok {
		t.Fatal("the Capabilities claim Sources, but the Target's Server is no SourceSetter: it cannot be told to send sources")
	}
	// The ids are integers, the one kind every provider's wire can carry
	// (CustomGPT cites by integer id alone).
	want := []chatbot.Source{
		{ID: "101", Title: "Opening hours", URL: "https://example.com/hours", Snippet: "Open 9 to 5, Monday to Friday.", Score: 0.92},
		{ID: "102", Title: "FAQ", URL: "https://example.com/faq", Snippet: "Closed on public holidays.", Score: 0.61},
	}
	setter.SetSources(want...)
	chat, streamed := both(t, target.Bot)
	for _, r := range []struct {
		call string
		got  []chatbot.Source
	}{{"Chat", chat.Sources}, {"Collect(Stream)", streamed.Sources}} {
		if len(r.got) != len(want) {
			t.Errorf("%s: %d sources %+v; the server sent %d", r.call, len(r.got), r.got, len(want))
			continue
		}
		for i := range want {
			if !sameSource(want[i], r.got[i]) {
				t.Errorf("%s: source %d = %+v; the server sent %+v (a field the provider cannot carry may be empty, no other)", r.call, i, r.got[i], want[i])
			}
		}
	}
	setter.SetSources()
	absent(t, target.Bot, "Sources, the server sending none,", func(r *chatbot.Reply) bool { return len(r.Sources) > 0 })
}

// sameSource reports whether got is want with, at most, fields emptied, and
// not all of its text fields empty.
func sameSource(want, got chatbot.Source) bool {
	same := func(w, g string) bool { return g == "" || g == w }
	return same(want.ID, got.ID) && same(want.Title, got.Title) && same(want.URL, got.URL) &&
		same(want.Snippet, got.Snippet) && (got.Score == 0 || got.Score == want.Score) &&
		got.ID+got.Title+got.URL+got.Snippet != ""
}

// CheckUsage checks that replies report the usage the server sent exactly
// when the Capabilities claim Usage: each field the provider fills equal to
// what the server was told to report (with [UsageSetter.SetUsage]), in
// Chat's reply and on the final chunk of Stream; nil when the server
// reports none.
func CheckUsage(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	if !chatbot.InfoOf(target.Bot).Capabilities.Usage {
		absent(t, target.Bot, "Usage", func(r *chatbot.Reply) bool { return r.Usage != nil })
		return
	}
	setter, ok := target.Server.(UsageSetter)
	if !ok {
		t.Fatal("the Capabilities claim Usage, but the Target's Server is no UsageSetter: it cannot be told to report usage")
	}
	want := chatbot.Usage{InputTokens: 12, OutputTokens: 34, TotalTokens: 46, Credits: 1.5, Price: "0.0000760", Currency: "USD"}
	setter.SetUsage(&want)
	chat, _ := both(t, target.Bot)
	if chat.Usage == nil || !sameUsage(want, *chat.Usage) {
		t.Errorf("Chat: Usage = %+v; the server reported %+v (a field the provider cannot carry may be zero, no other)", chat.Usage, want)
	}
	final := lastChunk(t, target.Bot)
	if final.Usage == nil || !sameUsage(want, *final.Usage) {
		t.Errorf("Stream: the final chunk's Usage = %+v; the server reported %+v", final.Usage, want)
	}
	setter.SetUsage(nil)
	absent(t, target.Bot, "Usage, the server reporting none,", func(r *chatbot.Reply) bool { return r.Usage != nil })
}

// sameUsage reports whether got is want with, at most, fields zeroed, and
// not all of them zero.
func sameUsage(want, got chatbot.Usage) bool {
	return (got.InputTokens == 0 || got.InputTokens == want.InputTokens) &&
		(got.OutputTokens == 0 || got.OutputTokens == want.OutputTokens) &&
		(got.TotalTokens == 0 || got.TotalTokens == want.TotalTokens) &&
		(got.Credits == 0 || got.Credits == want.Credits) &&
		(got.Price == "" || got.Price == want.Price) &&
		(got.Currency == "" || got.Currency == want.Currency) &&
		got != chatbot.Usage{}
}

// CheckFinishReasons checks that replies say why they ended exactly when
// the Capabilities claim FinishReasons: in Chat's reply and on the final
// chunk of Stream. When the Server is a [FinishReasonSetter], a scripted
// [chatbot.FinishLength] must come back as such.
func CheckFinishReasons(t *testing.T, newTarget NewTarget) {
	t.Helper()
	target := newTarget(t)
	if !chatbot.InfoOf(target.Bot).Capabilities.FinishReasons {
		absent(t, target.Bot, "a FinishReason", func(r *chatbot.Reply) bool { return r.FinishReason != "" })
		return
	}
	chat, _ := both(t, target.Bot)
	if chat.FinishReason == "" {
		t.Errorf("Chat: no FinishReason, and the Capabilities claim FinishReasons")
	}
	if final := lastChunk(t, target.Bot); final.FinishReason == "" {
		t.Errorf("Stream: the final chunk has no FinishReason, and the Capabilities claim FinishReasons")
	}
	setter, ok := target.Server.(FinishReasonSetter)
	if !ok {
		return
	}
	setter.SetFinishReason(chatbot.FinishLength)
	defer setter.SetFinishReason("")
	chat, streamed := both(t, target.Bot)
	if chat.FinishReason != chatbot.FinishLength || streamed.FinishReason != chatbot.FinishLength {
		t.Errorf("FinishReason: Chat %q, Collect(Stream) %q; the server said %q", chat.FinishReason, streamed.FinishReason, chatbot.FinishLength)
	}
}

// both returns bot's reply to one question through Chat and through
// Collect(Stream), failing t on an error.
func both(t *testing.T, bot chatbot.Chatbot) (chat, streamed *chatbot.Reply) {
	t.Helper()
	chat, err := bot.Chat(t.Context(), chatbot.Request{Message: question})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	streamed, err = chatbot.Collect(bot.Stream(t.Context(), chatbot.Request{Message: question}))
	if err != nil {
		t.Fatalf("Collect(Stream): %v", err)
	}
	return chat, streamed
}

// lastChunk returns the final chunk of a stream of bot, failing t on an
// error.
func lastChunk(t *testing.T, bot chatbot.Chatbot) chatbot.Chunk {
	t.Helper()
	var last chatbot.Chunk
	for ch, err := range bot.Stream(t.Context(), chatbot.Request{Message: question}) {
		if err != nil {
			t.Fatalf("Stream: %v", err)
		}
		last = ch
	}
	return last
}

// absent checks that neither Chat's reply nor Collect(Stream)'s has what
// has reports, which the Capabilities do not claim.
func absent(t *testing.T, bot chatbot.Chatbot, what string, has func(*chatbot.Reply) bool) {
	t.Helper()
	chat, streamed := both(t, bot)
	if has(chat) {
		t.Errorf("Chat: the reply carries %s, which the Capabilities do not claim: %+v", what, chat)
	}
	if has(streamed) {
		t.Errorf("Collect(Stream): the reply carries %s, which the Capabilities do not claim: %+v", what, streamed)
	}
}

// hold makes the server's next reply two chunks and stall after the first,
// and reports whether it could (the server exists and can stall midway).
func hold(s Server) bool {
	st, ok := s.(staller)
	if !ok {
		return false
	}
	s.SetReply("First part. ", "Second part.")
	st.StallAfter(1)
	return true
}

// observed reports whether c yields within promptly.
func observed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	case <-time.After(promptly):
		return false
	}
}

// replay yields the recorded chunks again, for Collect.
func replay(chunks []chatbot.Chunk) iter.Seq2[chatbot.Chunk, error] {
	return func(yield func(chatbot.Chunk, error) bool) {
		for _, ch := range chunks {
			if !yield(ch, nil) {
				return
			}
		}
	}
}
