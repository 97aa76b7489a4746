// record_ssestreamer.js records, byte for byte, what Flowise's own
// SSEStreamer (packages/server/src/utils/SSEStreamer.ts, shipped compiled in
// the "flowise" npm package) writes for the stream goldens of this package.
// It is not run by CI and contains none of Flowise's code: it requires the
// installed package at run time and drives it with a fake response object,
// in the order Flowise's prediction controller and its LangChain callback
// handler (flowise-components src/handler.ts, CustomChainHandler) call it.
//
//   npm pack flowise@3.1.2 && tar xzf flowise-3.1.2.tgz
//   node record_ssestreamer.js ./package
//
// With no argument it requires "flowise" from node_modules.
'use strict'
const fs = require('fs')
const path = require('path')

const pkg = process.argv[2]
const mod = pkg ? path.resolve(pkg, 'dist/utils/SSEStreamer.js') : 'flowise/dist/utils/SSEStreamer'
const { SSEStreamer } = require(mod)
const version = pkg ? JSON.parse(fs.readFileSync(path.resolve(pkg, 'package.json'))).version : require('flowise/package.json').version

// fakeResponse records what is written, as an Express response would send it.
function fakeResponse() {
    const chunks = []
    return { chunks, write: (s) => chunks.push(Buffer.from(s, 'utf8')), end: () => {} }
}

function record(name, run) {
    const s = new SSEStreamer()
    const res = fakeResponse()
    const chatId = 'a5f0c7e2-3b1d-4c8e-9f6a-2d7b8e1c4f90'
    s.addExternalClient(chatId, res)
    return Promise.resolve(run(s, chatId, res)).then(() => {
        fs.writeFileSync(path.join(__dirname, name), Buffer.concat(res.chunks))
        console.log(`${name}: ${res.chunks.length} writes (flowise ${version})`)
    })
}

// tokens streams the answer as CustomChainHandler.handleLLMNewToken does:
// the first token also starts the stream.
function tokens(s, chatId, list) {
    list.forEach((t, i) => {
        if (i === 0) s.streamStartEvent(chatId, t)
        s.streamTokenEvent(chatId, t)
    })
}

// apiResponse is what buildChatflow returns: followUpPrompts encoded twice.
const apiResponse = (chatId) => ({
    text: 'unused by the streamer',
    question: 'What are your opening hours?',
    chatId,
    chatMessageId: '7d1e9b20-5c4a-4f3e-8b6d-0a9c2e4f1b37',
    sessionId: chatId,
    memoryType: 'Buffer Memory',
    followUpPrompts: JSON.stringify(JSON.stringify(['Are you open on Sundays?', 'Where are you?']))
})

async function main() {
    await record('ssestreamer_rag.golden', (s, chatId) => {
        tokens(s, chatId, ['We', ' are', ' open', ' 9–5 "daily"', ',\n', 'see 🕘.'])
        s.streamSourceDocumentsEvent(chatId, [
            { pageContent: 'Opening hours: 9 to 5.', metadata: { source: 'https://example.com/hours', loc: { lines: { from: 1, to: 3 } } } },
            { pageContent: 'Closed on public holidays.', metadata: { source: 'handbook.pdf', pdf: { totalPages: 12 } } }
        ])
        s.streamEndEvent(chatId)
        s.streamMetadataEvent(chatId, apiResponse(chatId))
        s.removeClient(chatId)
    })
    await record('ssestreamer_agent.golden', async (s, chatId, res) => {
        // One keep-alive, as the 30 s heartbeat writes it to a slow agent's
        // stream: the heartbeat is stopped at its first write.
        await new Promise((resolve) => {
            const write = res.write
            res.write = (x) => {
                write(x)
                res.write = write
                s.stopHeartbeat()
                resolve()
            }
            s.startHeartbeat(1)
        })
        tokens(s, chatId, ['It is ', '21°C.'])
        s.streamUsedToolsEvent(chatId, [{ tool: 'weather', toolInput: { city: 'Paris' }, toolOutput: '21°C' }])
        s.streamMetadataEvent(chatId, { chatId, chatMessageId: 'msg-agent-1', question: 'Weather?' })
        s.removeClient(chatId)
    })
    await record('ssestreamer_error.golden', (s, chatId) => {
        tokens(s, chatId, ['Par'])
        s.streamErrorEvent(chatId, '401 Incorrect API key provided: sk-abc***')
        s.removeClient(chatId)
    })
    await record('ssestreamer_metadata_only.golden', (s, chatId) => {
        s.streamMetadataEvent(chatId, apiResponse(chatId))
        s.removeClient(chatId)
    })
}

main().catch((e) => {
    console.error(e)
    process.exit(1)
})
