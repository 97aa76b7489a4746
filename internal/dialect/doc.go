// Package dialect decodes the stream formats of hosted chatbots, each a
// small unit, and runs a stream body through one of them into a provider's
// chunks. It sits below the providers: a provider that knows its format
// picks it; one that does not (workspace) picks [Sniff], which detects the
// format of each stream from its first text-bearing event.
//
// # Dialects
//
// A [Dialect] names a format: [UIMessage] (AI SDK 5+ UI message stream,
// Chatbase), [DataStream] (AI SDK 3.x–4.x "code:JSON" lines), [Flowise],
// [Dify], [OpenAI] chat completion chunks, [Anthropic] Messages, [Quoted]
// (LangChain.js JSON strings), [Plain] text, [CustomGPT], and [Sniff]. Each unit's rules
// are documented on its type in its own file (uimessage.go, dify.go, …),
// with golden inputs in testdata/ and a fuzz target seeded from them.
//
// A [Decoder] decodes the events of one stream ([New]); [Decoder.Decode]
// maps one event to an [Event]: text (or text that replaces the reply so
// far), a whole-reply response, ids (conversation, message, task), sources,
// usage, a finish reason, pending actions, raw metadata, the end, an abort,
// or a typed error. Decoding never fails; what a unit cannot read means
// nothing.
//
// # Running a stream
//
// [Run] is the one driver: it frames the body (Server-Sent Events, or lines
// for [DataStream]), decodes each event and writes the reply to a
// [rest.ChunkWriter], with the rules every provider shares: a reply with no
// text and no end marker is never complete ([ErrNoReply]), a format with an
// end marker that ends without it is truncated ([ErrTruncated]), an error
// event ends the stream with a typed error after the text received, an
// abort with [ErrAborted]; idle timeout and cancellation come from the
// [rest.Body]. [RunText] does the same for a raw text body. Run does not
// read the Content-Type: the provider answers a JSON body (a reply where a
// stream was asked for) or an HTML page itself before it hands the body
// over, as workspace does.
//
// A provider's Stream opens the response and hands the body over:
//
//	resp, body, err := g.Open(ctx, call)
//	if err != nil {
//		return err
//	}
//	defer body.Close()
//	w.SetResponse(resp)
//	return dialect.Run(c.rest, body, w, dialect.New(dialect.Dify, resp.Header), dialect.Options{
//		OnEvent: func(e *dialect.Event) error {
//			if e.TaskID != "" {
//				taskID = e.TaskID // to stop the run
//			}
//			return nil
//		},
//	})
//
// [Options.OnEvent] sees every decoded event before it is applied and may
// change it: map provider fields out of [Event.Metadata] (Chatbase credits
// are already read into [Event.Usage]), remember a task id, or end the
// stream with an error.
package dialect
