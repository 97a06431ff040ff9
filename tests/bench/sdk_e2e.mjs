// sdk_e2e.mjs — one streamed chat through an official npm client against
// rill-mock (real HTTP over loopback), for bench_e2e.sh.
//   node sdk_e2e.mjs PEERS_DIR ollama|openai BASE_URL
// Prints {"client","bytes","seconds","deltas"} (bytes = the response body
// length the mock reported in X-Mock-* headers is not visible to SDKs, so
// the body is measured by a counting fetch wrapper).
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const [peers, fmt, base] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(peers), 'index.js'));
const version = (n) => JSON.parse(readFileSync(path.join(path.resolve(peers), 'node_modules', n, 'package.json'))).version;

let bytes = 0;
async function countingFetch(url, init) {
  const res = await fetch(url, init);
  const counted = res.body.pipeThrough(new TransformStream({
    transform(chunk, ctl) { bytes += chunk.byteLength; ctl.enqueue(chunk); },
  }));
  return new Response(counted, { status: res.status, headers: res.headers });
}

const t0 = process.hrtime.bigint();
let deltas = 0, client;
if (fmt === 'ollama') {
  const { Ollama } = require('ollama');
  client = 'ollama ' + version('ollama');
  const o = new Ollama({ host: base, fetch: countingFetch });
  const s = await o.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const part of s) if (part.message.content) deltas++;
} else {
  const OpenAI = require('openai').default ?? require('openai');
  client = 'openai ' + version('openai');
  const o = new OpenAI({ apiKey: 'bench', baseURL: base, fetch: countingFetch, maxRetries: 0 });
  const s = await o.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
  for await (const c of s) if (c.choices[0]?.delta?.content) deltas++;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ client, bytes, seconds, deltas }));
