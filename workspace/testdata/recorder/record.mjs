// record.mjs writes the golden stream transcripts in ../golden/ from the real
// JavaScript libraries (see README.md). Run: npm ci && node record.mjs
//
// Each transcript is one file, <name>.http: the status line, the headers the
// library set, a blank line, then the body bytes exactly as the library
// produced them. Truncated variants (<name>.cut.http) are derived by cutting a
// recorded body just before its end marker, at a line boundary.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ai6 from 'ai6';
import { MockLanguageModelV3 } from 'ai6/test';
import * as ai4 from 'ai4';
import { MockLanguageModelV1 } from 'ai4/test';
import { HttpResponseOutputParser } from 'langchain/output_parsers';
import { Stream as OpenAIStream } from 'openai/streaming';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'golden');
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);

// The emoji 🇷 is U+1F1F7: in UTF-16 the pair \ud83c \uddf7. JavaScript servers
// cut strings by code unit, so a delta may end with the first half.
const flag = '\u{1F1F7}';
const [hi, lo] = [flag.slice(0, 1), flag.slice(1)];

const saved = [];
function save(name, status, headers, body) {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  writeFileSync(path.join(out, name + '.http'), Buffer.concat([head, Buffer.from(body)]));
  saved.push(name);
}

// cut saves a copy of a recorded body ending just before the first line that
// contains marker (the end marker of the format), at a line boundary.
function cut(name, status, headers, body, marker) {
  const text = Buffer.from(body).toString('utf8');
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${name}: marker ${marker} not found`);
  const lineStart = text.lastIndexOf('\n', at) + 1;
  save(name + '.cut', status, headers, Buffer.from(text.slice(0, lineStart), 'utf8'));
}

async function saveResponse(name, res, marker) {
  const headers = [...res.headers.entries()];
  const body = new Uint8Array(await res.arrayBuffer());
  save(name, res.status, headers, body);
  if (marker) cut(name, res.status, headers, body, marker);
  return body;
}

// ---- AI SDK 6 (ai@6): UI message stream and text stream -------------------

const usage3 = {
  inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};
const finish3 = reason => ({ type: 'finish', finishReason: { unified: reason, raw: reason }, usage: usage3 });

function model6(parts) {
  return new MockLanguageModelV3({
    doStream: async () => ({ stream: ai6.simulateReadableStream({ chunks: parts, initialDelayInMs: null, chunkDelayInMs: null }) }),
  });
}

const text6 = deltas => [
  { type: 'text-start', id: 't1' },
  ...deltas.map(d => ({ type: 'text-delta', id: 't1', delta: d })),
  { type: 'text-end', id: 't1' },
];

async function recordAI6() {
  const opts = { generateMessageId: () => 'msg-golden-6', sendReasoning: true, sendSources: true };
  const run = (parts, extra = {}) => ai6.streamText({ model: model6(parts), prompt: 'hi', ...extra });

  const plain = [{ type: 'stream-start', warnings: [] }, ...text6(['Hel', 'lo, wörld ✓']), finish3('stop')];
  await saveResponse('ai6_ui_plain', run(plain).toUIMessageStreamResponse(opts), 'data: [DONE]');
  await saveResponse('ai6_text_plain', run(plain).toTextStreamResponse());

  const reasoning = [
    { type: 'stream-start', warnings: [] },
    { type: 'reasoning-start', id: 'r1' },
    { type: 'reasoning-delta', id: 'r1', delta: 'The user greets me. ' },
    { type: 'reasoning-delta', id: 'r1', delta: 'I should greet back.' },
    { type: 'reasoning-end', id: 'r1' },
    { type: 'source', sourceType: 'url', id: 's1', url: 'https://example.com/doc', title: 'Doc' },
    ...text6(['Hello', ' there!']),
    finish3('stop'),
  ];
  await saveResponse('ai6_ui_reasoning', run(reasoning).toUIMessageStreamResponse(opts), '"type":"finish"');

  const tools = [
    { type: 'stream-start', warnings: [] },
    ...text6(['Let me check ', 'the weather.']),
    { type: 'tool-input-start', id: 'call-1', toolName: 'weather' },
    { type: 'tool-input-delta', id: 'call-1', delta: '{"city":' },
    { type: 'tool-input-delta', id: 'call-1', delta: '"Paris"}' },
    { type: 'tool-input-end', id: 'call-1' },
    { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
    finish3('tool-calls'),
  ];
  const toolSet = {
    weather: ai6.tool({
      description: 'weather in a city',
      inputSchema: ai6.jsonSchema({ type: 'object', properties: { city: { type: 'string' } } }),
      execute: async ({ city }) => ({ city, temperature: 21, text: 'sunny' }),
    }),
  };
  await saveResponse('ai6_ui_tools', run(tools, { tools: toolSet }).toUIMessageStreamResponse(opts), '"type":"finish"');

  const jsonish = [{ type: 'stream-start', warnings: [] }, ...text6(['"ok"', ' {"ok": true} ', '42']), finish3('stop')];
  await saveResponse('ai6_ui_jsonish', run(jsonish).toUIMessageStreamResponse(opts));
  await saveResponse('ai6_text_jsonish', run(jsonish).toTextStreamResponse());

  const emoji = [{ type: 'stream-start', warnings: [] }, ...text6(['Flag ' + hi, lo + ' ok', ' end ' + hi]), finish3('stop')];
  await saveResponse('ai6_ui_surrogates', run(emoji).toUIMessageStreamResponse(opts));

  const failing = [
    { type: 'stream-start', warnings: [] },
    ...text6(['Partial']).slice(0, 2),
    { type: 'error', error: new Error('model overloaded') },
  ];
  await saveResponse('ai6_ui_error', run(failing).toUIMessageStreamResponse({ ...opts, onError: e => e.message }));

  const onlyReasoning = [
    { type: 'stream-start', warnings: [] },
    { type: 'reasoning-start', id: 'r1' },
    { type: 'reasoning-delta', id: 'r1', delta: 'Nothing to say.' },
    { type: 'reasoning-end', id: 'r1' },
    finish3('stop'),
  ];
  await saveResponse('ai6_ui_no_text', run(onlyReasoning).toUIMessageStreamResponse(opts));
}

// ---- AI SDK 4 (ai@4): data stream protocol and text stream ----------------

function model4(parts) {
  return new MockLanguageModelV1({
    doStream: async () => ({
      stream: ai4.simulateReadableStream({ chunks: parts, initialDelayInMs: null, chunkDelayInMs: null }),
      rawCall: { rawPrompt: null, rawSettings: {} },
    }),
  });
}
const finish4 = reason => ({ type: 'finish', finishReason: reason, usage: { promptTokens: 3, completionTokens: 5 } });

async function recordAI4() {
  const run = (parts, extra = {}) =>
    ai4.streamText({ model: model4(parts), prompt: 'hi', experimental_generateMessageId: () => 'msg-golden-4', ...extra });
  const opts = { sendReasoning: true };

  const plain = [{ type: 'text-delta', textDelta: 'Hel' }, { type: 'text-delta', textDelta: 'lo, wörld ✓' }, finish4('stop')];
  await saveResponse('ai4_data_plain', run(plain).toDataStreamResponse(opts), '\nd:');
  await saveResponse('ai4_text_plain', run(plain).toTextStreamResponse());

  const reasoning = [
    { type: 'reasoning', textDelta: 'The user greets me.' },
    { type: 'text-delta', textDelta: 'Hello' },
    { type: 'text-delta', textDelta: ' there!' },
    finish4('stop'),
  ];
  await saveResponse('ai4_data_reasoning', run(reasoning).toDataStreamResponse(opts), '\nd:');

  const tools = [
    { type: 'text-delta', textDelta: 'Let me check the weather.' },
    { type: 'tool-call-delta', toolCallType: 'function', toolCallId: 'call-1', toolName: 'weather', argsTextDelta: '{"city":"Paris"}' },
    { type: 'tool-call', toolCallType: 'function', toolCallId: 'call-1', toolName: 'weather', args: '{"city":"Paris"}' },
    finish4('tool-calls'),
  ];
  const toolSet = {
    weather: ai4.tool({
      description: 'weather in a city',
      parameters: ai4.jsonSchema({ type: 'object', properties: { city: { type: 'string' } } }),
      execute: async ({ city }) => ({ city, temperature: 21 }),
    }),
  };
  await saveResponse('ai4_data_tools', run(tools, { tools: toolSet, toolCallStreaming: true }).toDataStreamResponse(opts), '\nd:');

  const emoji = [
    { type: 'text-delta', textDelta: 'Flag ' + hi },
    { type: 'text-delta', textDelta: lo + ' ok' },
    { type: 'text-delta', textDelta: ' "ok" {"ok": true} 42' },
    finish4('stop'),
  ];
  await saveResponse('ai4_data_surrogates', run(emoji).toDataStreamResponse(opts));

  const failing = [{ type: 'text-delta', textDelta: 'Partial' }, { type: 'error', error: new Error('model overloaded') }];
  await saveResponse('ai4_data_error', run(failing).toDataStreamResponse({ ...opts, getErrorMessage: e => e.message }));
}

// ---- Flowise 3.1.4: its own SSEStreamer class ----------------------------

const flowiseVersion = '3.1.4';
const flowiseIntegrity =
  'sha512-vzJwKmuFybms7XG5ZM8Ty6wOR7xjEiY3zpf9FwULr47D4B7zJBYxF7FSnZ4JkexsZwZPegcyRRHBJkpVAcvkwg==';

// flowiseStreamer loads dist/utils/SSEStreamer.js from the published flowise
// tarball (checked against the registry's integrity). The full package is not
// installed: it depends on hundreds of packages, and SSEStreamer.js requires
// none of them.
function flowiseStreamer() {
  const dir = path.join(here, 'vendor', `flowise-${flowiseVersion}`);
  const file = path.join(dir, 'package', 'dist', 'utils', 'SSEStreamer.js');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', `flowise@${flowiseVersion}`, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim();
    const data = readFileSync(path.join(dir, tgz));
    const got = 'sha512-' + createHash('sha512').update(data).digest('base64');
    if (got !== flowiseIntegrity) throw new Error(`flowise tarball integrity ${got}`);
    execFileSync('tar', ['xzf', tgz, 'package/dist/utils/SSEStreamer.js', 'package/package.json'], { cwd: dir });
  }
  return require(file).SSEStreamer;
}

// serveFlowise answers one request the way Flowise's predictions controller
// (dist/controllers/predictions/index.js) does for a streaming chatflow: the
// same headers, then the SSEStreamer calls in the order Flowise makes them
// (start with the first token, one token event per token, metadata, end in
// removeClient; error then end on failure).
async function recordFlowise(SSEStreamer) {
  const scenarios = {
    flowise_plain: { tokens: ['Hel', 'lo, wörld ✓'] },
    flowise_jsonish: { tokens: ['"ok"', ' {"ok": true} ', '42'] },
    flowise_surrogates: { tokens: ['Flag ' + hi, lo + ' ok'] },
    flowise_error: { tokens: ['Partial'], error: 'Error: model overloaded' },
  };
  for (const [name, sc] of Object.entries(scenarios)) {
    const streamer = new SSEStreamer();
    const server = http.createServer((req, res) => {
      const chatId = 'chat-golden-1';
      streamer.addExternalClient(chatId, res);
      res.setHeader('Content-Type', 'text/event-stream');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      sc.tokens.forEach((t, i) => {
        if (i === 0) streamer.streamStartEvent(chatId, t);
        streamer.streamTokenEvent(chatId, t);
      });
      if (sc.error) {
        streamer.streamErrorEvent(chatId, sc.error);
      } else {
        streamer.streamMetadataEvent(chatId, {
          chatId, chatMessageId: 'msg-golden-fw', question: 'hi', sessionId: chatId, text: sc.tokens.join(''),
        });
      }
      streamer.removeClient(chatId);
    });
    await new Promise(r => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${server.address().port}/api/v1/prediction/x`, { method: 'POST' });
    const keep = ['content-type', 'cache-control', 'x-accel-buffering'];
    const headers = [...res.headers.entries()].filter(([k]) => keep.includes(k));
    const body = new Uint8Array(await res.arrayBuffer());
    save(name, res.status, headers, body);
    if (name === 'flowise_plain') cut(name, res.status, headers, body, '"event":"end"');
    server.close();
  }
}

// ---- LangChain.js: langchain's HttpResponseOutputParser ------------------

async function recordLangChain() {
  for (const [name, tokens] of Object.entries({
    langchain_plain: ['Hel', 'lo, wörld ✓'],
    langchain_jsonish: ['"ok"', ' {"ok": true} ', '42'],
    langchain_surrogates: ['Flag ' + hi, lo + ' ok'],
  })) {
    const parser = new HttpResponseOutputParser({ contentType: 'text/event-stream' });
    async function* input() { yield* tokens; }
    const chunks = [];
    for await (const c of await parser.transform(input())) chunks.push(Buffer.from(c));
    const body = Buffer.concat(chunks);
    // The headers LangChain's docs use with this parser: new Response(stream, {headers: {"Content-Type": "text/event-stream"}}).
    save(name, 200, [['content-type', 'text/event-stream']], body);
    if (name === 'langchain_plain') cut(name, 200, [['content-type', 'text/event-stream']], body, 'event: end');
  }
}

// ---- OpenAI-compatible: a minimal server writing what OpenAI writes -------

async function recordOpenAI() {
  const chunk = (delta, finish) => ({
    id: 'chatcmpl-golden', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini-2024-07-18',
    system_fingerprint: 'fp_golden', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  for (const [name, tokens] of Object.entries({
    openai_plain: ['Hel', 'lo, wörld ✓'],
    openai_surrogates: ['Flag ' + hi, lo + ' ok'],
  })) {
    const events = [chunk({ role: 'assistant', content: '', refusal: null }, null), ...tokens.map(t => chunk({ content: t }, null)), chunk({}, 'stop')];
    const body = Buffer.from(events.map(e => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n', 'utf8');
    const headers = [['content-type', 'text/event-stream; charset=utf-8']];
    // Check the transcript with the openai package's own SSE reader.
    const res = new Response(body, { headers: Object.fromEntries(headers) });
    let text = '';
    for await (const ev of OpenAIStream.fromSSEResponse(res, new AbortController())) text += ev.choices[0]?.delta?.content ?? '';
    if (text !== tokens.join('')) throw new Error(`openai reader read ${JSON.stringify(text)}`);
    save(name, 200, headers, body);
    if (name === 'openai_plain') {
      cut(name, 200, headers, body, 'data: [DONE]');
      cut(name + '.nofinish', 200, headers, body, '"finish_reason":"stop"');
    }
  }
}

await recordAI6();
await recordAI4();
await recordFlowise(flowiseStreamer());
await recordLangChain();
await recordOpenAI();
console.log(saved.join('\n'));
