// Webhooks receives the webhook deliveries of PollyBot-style workspaces
// (HMAC-SHA256 over body and timestamp), of SiteGPT (static token) and of
// Chatbase (HMAC-SHA1 over the body), verifies them and prints each event
// once, however often it is delivered.
//
//	go run ./examples/webhooks
//
// With no credentials in the environment it starts its receiver on a free
// loopback port and drives it from the SDK's fakes: a signed lead, the same
// lead delivered again, an event type the SDK does not know, a tampered
// delivery, one signed with another secret, a recorded delivery replayed
// with its timestamp moved into the body, a SiteGPT message and a delivery
// with a wrong token, and a Chatbase lead delivered, delivered again and
// tampered with. With credentials it serves -addr (default :8080) until
// interrupted, each receiver only when its variable is set:
//
//	WORKSPACE_WEBHOOK_SECRET   the whsec_… secret shown when the webhook was created; receives POST /webhooks/pollybot
//	SITEGPT_WEBHOOK_TOKEN      the token set for the webhook (or a thread's webhookToken); receives POST /webhooks/sitegpt
//	CHATBASE_WEBHOOK_SECRET    the secret key set for the webhook; receives POST /webhooks/chatbase
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatbot-go/chatbot/chatbase"
	"github.com/chatbot-go/chatbot/chatbase/chatbasetest"
	"github.com/chatbot-go/chatbot/examples/internal/cli"
	"github.com/chatbot-go/chatbot/sitegpt"
	"github.com/chatbot-go/chatbot/sitegpt/sitegpttest"
	"github.com/chatbot-go/chatbot/workspace"
	"github.com/chatbot-go/chatbot/workspace/workspacetest"
)

// The environment variables that switch the example to real deliveries.
const (
	secretVar   = "WORKSPACE_WEBHOOK_SECRET"
	tokenVar    = "SITEGPT_WEBHOOK_TOKEN"
	chatbaseVar = "CHATBASE_WEBHOOK_SECRET"
)

func main() {
	ctx, stop := cli.Context()
	err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv, nil)
	stop()
	os.Exit(cli.ExitCode(os.Stderr, "webhooks", err))
}

// run receives webhooks. Without credentials it drives itself from the fakes
// and returns; with them it serves until ctx ends. listening, when not nil,
// is told the address the receiver listens on.
func run(ctx context.Context, args []string, stdout io.Writer, env func(string) (string, bool), listening func(addr string)) error {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "address to receive real deliveries on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stdout = &lockedWriter{w: stdout} // the handlers and the driver both write
	secret, _ := env(secretVar)
	token, _ := env(tokenVar)
	cbSecret, _ := env(chatbaseVar)
	demo := secret == "" && token == "" && cbSecret == ""
	if demo {
		secret, token, cbSecret = workspacetest.DefaultWebhookSecret, sitegpttest.DefaultWebhookToken, chatbasetest.DefaultWebhookSecret
		*addr = "127.0.0.1:0"
	}

	p := &printer{w: stdout, seen: make(map[string]bool)}
	mux := http.NewServeMux()
	receivers := []struct {
		path, secret string
		handler      func(secret string) (http.Handler, error)
	}{
		// The default scheme, workspace.WebhookSignedTimestamp, verifies the
		// body and X-Webhook-Timestamp together and refuses stale and
		// body-only signatures; see workspace.WithWebhookScheme.
		{"/webhooks/pollybot", secret, func(s string) (http.Handler, error) { return workspace.NewWebhookHandler(s, p.workspace) }},
		{"/webhooks/sitegpt", token, func(s string) (http.Handler, error) { return sitegpt.NewWebhookHandler(s, p.sitegpt) }},
		{"/webhooks/chatbase", cbSecret, func(s string) (http.Handler, error) { return chatbase.NewWebhookHandler(s, p.chatbase) }},
	}
	var routes []string // the paths served, for the banner
	for _, r := range receivers {
		if r.secret == "" {
			continue // not configured: not served
		}
		h, err := r.handler(r.secret)
		if err != nil {
			return err
		}
		mux.Handle("POST "+r.path, h)
		routes = append(routes, r.path)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if listening != nil {
		listening(ln.Addr().String())
	}

	if demo {
		err = drive(ctx, stdout, "http://"+ln.Addr().String())
	} else {
		fmt.Fprintf(stdout, "Receiving webhooks on %s: POST %s. Ctrl-C stops.\n", ln.Addr(), strings.Join(routes, ", "))
		<-ctx.Done()
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil && err == nil {
		err = serr
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// lockedWriter serialises writes from the handlers and the driver.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printer prints each verified event once; a repeated delivery (the
// providers retry) is acknowledged and not printed again.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
}

// once prints line the first time key is seen, and again every later time.
func (p *printer) once(key, line, again string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[key] {
		line = again
	}
	p.seen[key] = true
	fmt.Fprintln(p.w, line)
}

func (p *printer) workspace(_ context.Context, ev *workspace.WebhookEvent) error {
	line := fmt.Sprintf("  pollybot: %s (no typed form): data %s", ev.Type, ev.Data)
	if ev.Lead != nil {
		line = fmt.Sprintf("  pollybot: %s: lead %s, %s <%s>, status %q", ev.Type, ev.Lead.ID, ev.Lead.Name, ev.Lead.Email, ev.Lead.Status)
	}
	p.once("pollybot "+ev.DedupKey(), line, fmt.Sprintf("  pollybot: %s again (%s), already handled", ev.Type, ev.DedupKey()))
	return nil
}

func (p *printer) sitegpt(_ context.Context, ev *sitegpt.WebhookEvent) error {
	var line string
	switch {
	case ev.Message != nil:
		line = fmt.Sprintf("  sitegpt: %s in thread %s: %q answered %q", ev.Type, ev.Message.ThreadID, ev.Message.Question, ev.Message.Answer)
	case ev.Escalation != nil:
		line = fmt.Sprintf("  sitegpt: %s: thread %s wants a human", ev.Type, ev.Escalation.ThreadID)
	case ev.Lead != nil:
		line = fmt.Sprintf("  sitegpt: %s: %s <%s>", ev.Type, ev.Lead.Name, ev.Lead.Email)
	default:
		line = fmt.Sprintf("  sitegpt: %s (no typed form): data %s", ev.Type, ev.Data)
	}
	p.once("sitegpt "+ev.DedupKey(), line, "  sitegpt: "+ev.Type+" again, already handled")
	return nil
}

func (p *printer) chatbase(_ context.Context, ev *chatbase.WebhookEvent) error {
	line := fmt.Sprintf("  chatbase: %s (no typed form): payload %s", ev.Type, ev.Payload)
	if ev.Lead != nil {
		line = fmt.Sprintf("  chatbase: %s for agent %s in conversation %s: %s <%s>, phone %q",
			ev.Type, ev.ChatbotID, ev.Lead.ConversationID, ev.Lead.Name, ev.Lead.Email, ev.Lead.Phone)
	}
	p.once("chatbase "+ev.DedupKey(), line, "  chatbase: "+ev.Type+" again, already handled")
	return nil
}

// drive delivers the demo's events one after another, as the providers
// would, and prints what the receiver answered to each.
func drive(ctx context.Context, w io.Writer, base string) error {
	fmt.Fprintln(w, "Receiving webhooks on a free loopback port, delivered by the SDK's built-in fakes (no network).")
	lead := workspacetest.LeadCreated(map[string]any{
		"id": "cm5lead789xyz", "name": "Ada Lovelace", "email": "ada@example.com", "status": "new",
	})
	unknown := workspacetest.WebhookEvent{Type: "CONVERSATION_ENDED", Data: map[string]any{"conversationId": "cm5abc123xyz456"}}
	message := sitegpttest.AddMessage(sitegpttest.DefaultChatbotID, "06b3b43c-5651-49a2-b618-000000000001",
		"Do you ship to Norway?", "Yes, in 3 to 5 working days.")
	cbLead := chatbasetest.LeadsSubmit(chatbasetest.DefaultAgentID, "conv_0001", "Grace Hopper", "grace@example.com", "+1 202 555 0142")

	pollybot, sgpt, cb := base+"/webhooks/pollybot", base+"/webhooks/sitegpt", base+"/webhooks/chatbase"
	secret, token, cbSecret := workspacetest.DefaultWebhookSecret, sitegpttest.DefaultWebhookToken, chatbasetest.DefaultWebhookSecret
	sentAt := time.Now() // a retry keeps the first delivery's timestamp
	replayed, recordedSig, err := timestampMovedIntoBody(secret, lead, sentAt.Add(-time.Hour))
	if err != nil {
		return err
	}

	steps := []struct {
		what    string
		deliver func() (int, error)
	}{
		{"pollybot LEAD_CREATED, signed", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, secret, lead, workspacetest.SignedAt(sentAt))
		}},
		{"pollybot LEAD_CREATED again (a retry of the same delivery)", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, secret, lead, workspacetest.SignedAt(sentAt))
		}},
		{"pollybot CONVERSATION_ENDED, signed", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, secret, unknown)
		}},
		{"pollybot LEAD_CREATED, one byte changed after signing", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, secret, lead, workspacetest.Tampered())
		}},
		{"pollybot LEAD_CREATED, signed with another secret", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, "whsec_not_the_secret", lead)
		}},
		{"pollybot LEAD_CREATED replayed an hour later, its timestamp moved into the body", func() (int, error) {
			return workspacetest.DeliverWebhook(ctx, pollybot, secret, replayed, workspacetest.BodySigned(),
				workspacetest.Unsigned(), workspacetest.DeliveryHeader(workspace.WebhookSignatureHeader, recordedSig))
		}},
		{"sitegpt ADD_MESSAGE, with the token", func() (int, error) {
			return sitegpttest.DeliverWebhook(ctx, sgpt, token, message)
		}},
		{"sitegpt ADD_MESSAGE, with a wrong token", func() (int, error) {
			return sitegpttest.DeliverWebhook(ctx, sgpt, token, message, sitegpttest.Tampered())
		}},
		{"chatbase leads.submit, signed", func() (int, error) {
			return chatbasetest.DeliverWebhook(ctx, cb, cbSecret, cbLead)
		}},
		{"chatbase leads.submit again (delivered twice)", func() (int, error) {
			return chatbasetest.DeliverWebhook(ctx, cb, cbSecret, cbLead)
		}},
		{"chatbase leads.submit, one byte changed after signing", func() (int, error) {
			return chatbasetest.DeliverWebhook(ctx, cb, cbSecret, cbLead, chatbasetest.Tampered())
		}},
	}
	for _, s := range steps {
		fmt.Fprintf(w, "deliver %s\n", s.what)
		status, err := s.deliver()
		if err != nil {
			return err
		}
		verdict := "accepted"
		if status != http.StatusOK {
			verdict = "rejected"
		}
		fmt.Fprintf(w, "  -> %d %s (%s)\n", status, http.StatusText(status), verdict)
	}
	fmt.Fprintf(w, "\nTo receive real deliveries, set %s, %s or %s.\n", secretVar, tokenVar, chatbaseVar)
	return nil
}

// timestampMovedIntoBody returns the replay of a workspace delivery of
// event, signed with secret at time at, that someone who recorded it could
// send later: the timestamp's digits appended to the body, no
// X-Webhook-Timestamp, and the recorded X-Webhook-Signature, which is then
// the MAC of the new body alone. workspace.WebhookSignedTimestamp, the
// default scheme, refuses it.
func timestampMovedIntoBody(secret string, event any, at time.Time) (body []byte, signature string, err error) {
	recorded, err := json.Marshal(event)
	if err != nil {
		return nil, "", err
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	return []byte(string(recorded) + ts), workspace.SignWebhook(secret, recorded, ts), nil
}
