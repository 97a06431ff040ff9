// embed_llama.mjs — llama.cpp's side of the embedding benchmark
// (tests/bench/bench_embed.sh), through node-llama-cpp's prebuilt CPU
// binary. Run from a directory where node-llama-cpp resolves (or NODE_PATH).
//
//   node embed_llama.mjs texts --model F.gguf --tokens N --count K --out T.jsonl
//       writes K texts of exactly N tokens each as llama.cpp tokenizes them
//       for embedding ([CLS] ... [SEP] included), one {"text":...} a line.
//   node embed_llama.mjs run --model F.gguf --texts T.jsonl --threads N
//       [--repeat R] [--flash-attention false|true|auto] [--context C]
//       loads the model, embeds every text of T one at a time (as
//       node-llama-cpp's getEmbeddingFor does: one sequence per evaluation)
//       R times after one warm-up text, and prints one JSON line: open time
//       (loadModel, of which llama.cpp's own load approximately, from its
//       log timestamps; createEmbeddingContext), tokens/s of each repeat,
//       resident memory (VmRSS before loading, VmHWM at the end: node's own
//       ~50 MB included), and llama.cpp's settings.
import fs from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";
import {performance} from "node:perf_hooks";

function resolveNlc() {
    const dirs = [process.cwd(), ...(process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean).map(d => path.dirname(d))];
    for (const d of dirs) {
        try {
            return createRequire(path.join(d, "noop.js")).resolve("node-llama-cpp");
        } catch { /* next */ }
    }
    throw new Error("node-llama-cpp not found: run from a directory where it is installed or set NODE_PATH");
}
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(resolveNlc()).href);

function status(key) {
    const m = fs.readFileSync("/proc/self/status", "utf8").match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : null;
}

function args(argv) {
    const o = {cmd: argv[2], threads: 1, repeat: 3, flash: false, context: 1024};
    for (let i = 3; i < argv.length; i++) {
        const a = argv[i], v = () => argv[++i];
        if (a === "--model") o.model = v();
        else if (a === "--tokens") o.tokens = Number(v());
        else if (a === "--count") o.count = Number(v());
        else if (a === "--out") o.out = v();
        else if (a === "--texts") o.texts = v();
        else if (a === "--threads") o.threads = Number(v());
        else if (a === "--repeat") o.repeat = Number(v());
        else if (a === "--context") o.context = Number(v());
        else if (a === "--flash-attention") { const f = v(); o.flash = f === "auto" ? "auto" : f === "true"; }
        else throw new Error(`unknown argument ${a}`);
    }
    return o;
}

// English-looking words from a fixed list, varied per text, trimmed and
// padded with one-token words to exactly n tokens.
const WORDS = ("the of and to in is it you that he was for on are with as his they be at one have this from " +
    "or had by not word but what some we can out other were all there when up use your how said an each she which " +
    "do their time if will way about many then them write would like so these her long make thing see him two has " +
    "look more day could go come did number sound no most people my over know water than call first who may down " +
    "side been now find any new work part take get place made live where after back little only round man year " +
    "embedding model text search query document token vector data file computer network learning neural attention").split(" ");
function makeText(model, n, k) {
    const count = s => model.tokenize(s).length + 2;
    const words = [];
    let seed = 12345 + 7919 * k;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    while (count(words.join(" ")) < n) words.push(WORDS[Math.floor(rnd() * WORDS.length)] + (rnd() < 0.1 ? "." : ""));
    while (count(words.join(" ")) > n) words.pop();
    while (count(words.join(" ")) < n) words.push("a");
    const text = words.join(" ");
    if (count(text) !== n) throw new Error(`could not make a text of ${n} tokens`);
    return text;
}

async function main() {
    const o = args(process.argv);
    const rssStart = status("VmRSS");
    const log = [];
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.info,
        logger: (level, message) => log.push({level, message, t: performance.now()})});
    if (o.cmd === "texts") {
        const model = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
        const lines = [];
        for (let k = 0; k < o.count; k++) lines.push(JSON.stringify({text: makeText(model, o.tokens, k)}));
        fs.writeFileSync(o.out, lines.join("\n") + "\n");
        await model.dispose();
        return;
    }
    if (o.cmd !== "run") throw new Error("usage: embed_llama.mjs texts|run ...");
    const texts = fs.readFileSync(o.texts, "utf8").split("\n").filter(Boolean).map(l => JSON.parse(l).text);
    const rssBefore = status("VmRSS");
    let t0 = performance.now();
    const model = await llama.loadModel({modelPath: o.model, gpuLayers: 0, defaultContextFlashAttention: o.flash});
    const tLoadEnd = performance.now(), tLoad = tLoadEnd - t0;
    // node-llama-cpp first reads the GGUF header in JS (the 30522-entry
    // vocabulary included) and estimates memory; llama.cpp's own load
    // starts at its last "loaded meta data" log line.
    const metaLines = log.filter(l => l.t >= t0 && /llama_model_loader: loaded meta data/.test(l.message));
    const tNative = metaLines.length ? tLoadEnd - metaLines.at(-1).t : null;
    t0 = performance.now();
    const ctx = await model.createEmbeddingContext({contextSize: o.context, batchSize: o.context, threads: o.threads});
    const tCtx = performance.now() - t0;
    const nTokens = texts.map(t => model.tokenize(t).length + 2);
    const total = nTokens.reduce((a, b) => a + b, 0);
    t0 = performance.now();
    await ctx.getEmbeddingFor(texts[0]); // warm-up
    const tFirst = performance.now() - t0;
    const runs = [];
    for (let r = 0; r < o.repeat; r++) {
        t0 = performance.now();
        for (const t of texts) {
            const e = await ctx.getEmbeddingFor(t);
            if (e.vector.length !== model.embeddingVectorSize) throw new Error("bad vector");
        }
        const s = (performance.now() - t0) / 1000;
        runs.push(total / s);
    }
    const hwm = status("VmHWM");
    const flash = log.map(l => l.message).filter(m => /flash_attn\s*=/.test(m)).map(s => s.trim().replace(/\s+/g, " "));
    const repack = log.map(l => l.message).filter(m => /REPACK/.test(m)).map(s => s.trim().replace(/\s+/g, " "));
    const warnings = log.filter(l => l.level === "warn" || l.level === "error").map(l => l.message.trim());
    const sorted = [...runs].sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
        model: path.basename(o.model), threads: o.threads, texts: texts.length,
        tokens_per_text: [Math.min(...nTokens), Math.max(...nTokens)], tokens: total,
        open_ms: {load_model: +tLoad.toFixed(1), llama_load_approx: tNative == null ? null : +tNative.toFixed(1), create_context: +tCtx.toFixed(1), first_text: +tFirst.toFixed(1)},
        tokens_per_s: runs.map(x => +x.toFixed(1)), median_tokens_per_s: +sorted[Math.floor(sorted.length / 2)].toFixed(1),
        rss_mib: {node_start: +(rssStart / 1048576).toFixed(1), before_load: +(rssBefore / 1048576).toFixed(1),
            peak: +(hwm / 1048576).toFixed(1)},
        llama: {context_size: o.context, batch_size: o.context, flash_attention: o.flash, log_flash: flash, repack,
            warnings: warnings.filter(w => !/detokenize/.test(w))},
    }) + "\n");
    await ctx.dispose();
    await model.dispose();
}

await main();
