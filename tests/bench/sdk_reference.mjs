// sdk_reference.mjs — the official SDKs decoding the same streams as
// bench_framing, for the ratio in docs/PERFORMANCE.md.
//
//   node tests/bench/sdk_reference.mjs PEERS_DIR SSE_PATTERN NDJSON_PATTERN [MiB]
//
// PEERS_DIR holds node_modules with `openai` and `ollama` (npm install
// openai ollama, outside the repository). The patterns come from
// `bench_framing --pattern sse|ndjson`. Each SDK gets a fetch that returns
// the stream from memory in 16 KiB chunks, so no network is involved and
// the figure is the SDK's own framing + JSON decoding, as rill's is.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [peers, ssePath, ndPath, mibArg] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(peers), 'index.js'));
const OpenAI = require('openai').default ?? require('openai');
const { Ollama } = require('ollama');
const MiB = Number(mibArg ?? 64);
const versionOf = (name) => JSON.parse(readFileSync(path.join(path.resolve(peers), 'node_modules', name, 'package.json'))).version;
const CHUNK = 16384;
const RUNS = 3;

// The ollama client insists on a final {"done":true} record.
const OLLAMA_DONE = Buffer.from('{"model":"llama3.2","created_at":"2024-08-27T17:01:37Z","message":{"role":"assistant","content":""},"done":true}\n');

function streamOf(pattern, total, trailer) {
  let sent = 0, off = 0;
  const doubled = Buffer.concat([pattern, pattern]);
  return new ReadableStream({
    pull(ctl) {
      if (sent >= total) {
        if (trailer) ctl.enqueue(new Uint8Array(trailer));
        ctl.close();
        return;
      }
      const n = Math.min(CHUNK, total - sent);
      ctl.enqueue(new Uint8Array(doubled.subarray(off, off + n)));
      sent += n;
      off = (off + n) % pattern.length;
    },
  });
}

async function measure(name, pattern, run, trailer) {
  const total = Math.floor((MiB * 1048576) / pattern.length) * pattern.length;
  let best = Infinity, records = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    records = await run(() => streamOf(pattern, total, trailer));
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t < best) best = t;
  }
  console.log(`| ${name.padEnd(34)} | ${(total / 1e6 / best).toFixed(0).padStart(9)} | ${(records / best).toFixed(0).padStart(12)} |`);
}

const sse = readFileSync(ssePath);
const nd = readFileSync(ndPath);
console.log(`node ${process.version}, openai ${versionOf('openai')}, ollama ${versionOf('ollama')}; ${MiB} MiB per run, best of ${RUNS}`);
console.log('| measurement                        |      MB/s |    records/s |');
console.log('|------------------------------------|-----------|--------------|');

await measure('openai SDK: chat stream (SSE)', sse, async (mk) => {
  const client = new OpenAI({
    apiKey: 'bench', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0,
    fetch: async () => new Response(mk(), { headers: { 'content-type': 'text/event-stream' } }),
  });
  const s = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
  let n = 0, chars = 0;
  for await (const chunk of s) { n++; chars += chunk.choices[0].delta.content.length; }
  if (chars === 0) throw new Error('no content decoded');
  return n;
});

await measure('ollama SDK: chat stream (NDJSON)', nd, async (mk) => {
  const client = new Ollama({
    host: 'http://127.0.0.1:9',
    fetch: async () => new Response(mk(), { headers: { 'content-type': 'application/x-ndjson' } }),
  });
  const s = await client.chat({ model: 'm', messages: [], stream: true });
  let n = 0, chars = 0;
  for await (const part of s) { n++; chars += part.message.content.length; }
  if (chars === 0) throw new Error('no content decoded');
  return n - 1; // the trailer is not part of the pattern
}, OLLAMA_DONE);
