// read.mjs posts one user message to each URL given on the command line
// through the ai package's own DefaultChatTransport (its fetch, its SSE
// parser, its validation of every part against uiMessageChunkSchema) and
// folds the stream with readUIMessageStream, as useChat does. It prints one
// JSON line per URL: the last message snapshot, the errors reported by
// onError, and the error thrown, if any.
import { DefaultChatTransport, readUIMessageStream } from "ai";

for (const api of process.argv.slice(2)) {
  const result = { api, message: null, errors: [], thrown: null };
  try {
    const transport = new DefaultChatTransport({ api, body: { conversationId: "conv-from-page" } });
    const stream = await transport.sendMessages({
      chatId: "chat-1",
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: undefined,
      messages: [
        { id: "u1", role: "user", parts: [{ type: "text", text: "Hi" }] },
        { id: "a1", role: "assistant", parts: [{ type: "text", text: "Hello" }] },
        { id: "u2", role: "user", parts: [{ type: "text", text: "What does it cost?" }] },
      ],
    });
    for await (const message of readUIMessageStream({
      stream,
      onError: (err) => result.errors.push(String(err && err.message)),
    })) {
      result.message = message;
    }
  } catch (err) {
    result.thrown = String(err && err.message);
  }
  console.log(JSON.stringify(result));
}
