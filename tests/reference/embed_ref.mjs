// embed_ref.mjs — reference token ids and embeddings from llama.cpp itself
// (node-llama-cpp 3.22.1, its prebuilt CPU binary) for the synthetic
// nomic-bert models gguf_gen writes. Run by hand, not in CI: CI compares
// rill against the JSON this writes (tests/unit/data/embed/).
//
//   cd /work/bench-peers      # any directory where node-llama-cpp resolves
//   node /path/to/rill/tests/reference/embed_ref.mjs --gguf-gen BUILD/tests/gguf_gen \
//       [--out-dir tests/unit/data/embed] [--models id,id,...] [--threads 1] \
//       [--flash-attention false] [--keep DIR] [--log]
//   node embed_ref.mjs --model FILE.gguf [--out FILE.json] [--texts texts.json]
//
// Mode 1 regenerates each model of MODELS below with gguf_gen (into a
// temporary directory, or --keep DIR), runs llama.cpp on TEXTS and writes
// texts.json (the texts and their token ids, shared: every model has the
// same vocabulary) and <id>.json (the gguf_gen arguments that rebuild the
// exact model file, llama.cpp's settings, one raw vector per text). Mode 2
// runs one model file on the built-in texts (or a JSON array of strings)
// and writes everything into one JSON file.
//
// What llama.cpp computes here:
// - token ids as node-llama-cpp's LlamaEmbeddingContext feeds them:
//   model.tokenize(text) (llama_tokenize with add_special false and
//   parse_special false) then [CLS] prepended and [SEP] appended
//   (_prepareInput, for the WPM vocabulary), i.e. llama_tokenize with
//   add_special true, parse_special false;
// - the embedding: llama_get_embeddings_seq after one evaluation of those
//   tokens, mean pooling (pooling_type 1 from the file), NOT normalized
//   (node-llama-cpp returns llama.cpp's vector as is);
// - flash attention off (loadModel's defaultContextFlashAttention: false,
//   which the embedding context inherits; llama.cpp's "auto" would enable
//   it on the CPU and cast K/V to F16). The llama.cpp log line confirming
//   it is stored in the JSON.
// - texts that tokenize to nothing (the empty and whitespace-only ones):
//   getEmbeddingFor(text) returns an empty vector; that is recorded
//   ("node_llama_cpp_vector_length": 0) and the reference vector is
//   llama.cpp's embedding of the ids [CLS] [SEP], passed as tokens, which
//   is what rill computes for such a text.
// Vectors are rounded to 7 significant digits.
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";

// node-llama-cpp resolves from the working directory (or NODE_PATH), not
// from this file's directory.
const requireFromCwd = createRequire(path.join(process.cwd(), "noop.js"));
function resolveNlc() {
    try {
        return requireFromCwd.resolve("node-llama-cpp");
    } catch {
        for (const dir of (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean)) {
            const p = path.join(dir, "node-llama-cpp");
            if (fs.existsSync(p)) return createRequire(path.join(dir, "noop.js")).resolve("node-llama-cpp");
        }
        throw new Error("node-llama-cpp not found: run from a directory where it is installed or set NODE_PATH");
    }
}
const nlcEntry = resolveNlc();
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(nlcEntry).href);
const nlcRoot = path.resolve(path.dirname(nlcEntry), "..");
const nlcVersion = JSON.parse(fs.readFileSync(path.join(nlcRoot, "package.json"), "utf8")).version;
let llamaRelease = "unknown";
try {
    llamaRelease = JSON.parse(fs.readFileSync(path.join(nlcRoot, "llama", "llama.cpp.info.json"), "utf8")).tag;
} catch { /* older layouts */ }

// ---- the models ---------------------------------------------------------
// Two shapes: E 64 (head size 16) for the 32-element types, E 256 (head
// size 64, rows of 256 so the K types stay K) for the K types. Both V 2000,
// so one texts.json serves all. One seed per shape: the same float weights
// in every type, so a type's vectors can also be set against the F32 ones
// (tiny-e64-f32) to see its quantization gap.
const T64 = ["--layers", "2", "--embd", "64", "--heads", "4", "--ff", "256", "--vocab", "2000", "--ctx", "512"];
const T256 = ["--layers", "2", "--embd", "256", "--heads", "4", "--ff", "512", "--vocab", "2000", "--ctx", "512"];
export const MODELS = [
    {id: "tiny-e64-f32", args: ["--type", "F32", "--seed", "101", ...T64]},
    {id: "tiny-e64-f16", args: ["--type", "F16", "--seed", "101", ...T64]},
    {id: "tiny-e64-bf16", args: ["--type", "BF16", "--seed", "101", ...T64]},
    {id: "tiny-e64-q8_0", args: ["--type", "Q8_0", "--seed", "101", ...T64]},
    {id: "tiny-e64-q4_0", args: ["--type", "Q4_0", "--seed", "101", ...T64]},
    {id: "tiny-e64-q4_1", args: ["--type", "Q4_1", "--seed", "101", ...T64]},
    {id: "tiny-e64-q5_0", args: ["--type", "Q5_0", "--seed", "101", ...T64]},
    {id: "tiny-e64-q5_1", args: ["--type", "Q5_1", "--seed", "101", ...T64]},
    {id: "tiny-e256-q4_k", args: ["--type", "Q4_K", "--seed", "201", ...T256]},
    {id: "tiny-e256-q5_k", args: ["--type", "Q5_K", "--seed", "201", ...T256]},
    {id: "tiny-e256-q6_k", args: ["--type", "Q6_K", "--seed", "201", ...T256]},
    {id: "tiny-e256-q4_k_m", args: ["--type", "Q4_K_M", "--seed", "201", ...T256]},
];

// ---- the texts ----------------------------------------------------------
const LONG_PARAGRAPHS = [
    "Local embedding models turn a piece of text into a vector of numbers, so that texts with a similar meaning end up near each other.",
    "An editor plugin can use such vectors to find the part of a large code base that answers a question, without sending the code to a server.",
    "The model reads the words, splits them into pieces it knows, and looks at every piece in the light of all the others through attention.",
    "Each layer mixes what the pieces learned from each other with a small network applied to every piece on its own, and then normalizes the result.",
    "At the end the vectors of all the pieces are averaged into one, which is what a search index stores for the document.",
    "Quantized weights keep the file small: four or five bits per weight are often enough, with a scale for every block of thirty two or two hundred fifty six.",
    "The numbers must match a careful reference closely, or a search would return different results on different machines.",
    "Speed matters as well: a user who types a query expects the answer before the next key press, and a background job may embed thousands of files.",
];
function longText(maxTokens, countTokens) {
    // Paragraphs repeated with a counter until the token budget is reached.
    const words = [];
    for (let round = 1; ; round++) {
        for (const p of LONG_PARAGRAPHS) {
            for (const w of (p + ` (part ${round})`).split(" ")) {
                words.push(w);
                if (countTokens(words.join(" ")) > maxTokens) {
                    words.pop();
                    return words.join(" ");
                }
            }
        }
    }
}
export function buildTexts(countTokens) {
    return [
        {name: "short", text: "Hello world"},
        {name: "sentence", text: "The quick brown fox jumps over the lazy dog."},
        {name: "prefix", text: "search_query: What is a local embedding model?"},
        {name: "punctuation", text: "Wait... what?! (yes) -- [CLS] $100 + 3.14159 = pi; a/b \"quoted\" 'x' #tag @user ~home^2 <b>|</b>"},
        {name: "accents", text: "Café naïve résumé Straße Ångström façade Øre ÉCOLE Ελληνικά ёлка"},
        {name: "unicode", text: "Ελληνικά и русский текст — “quotes” … ¿qué? ¡sí! € 5 ½ µm 20°C ©2024™"},
        {name: "cjk", text: "日本語のテキストと中文文本，東京は大きい。한국어 안녕하세요 カタカナ"},
        {name: "emoji", text: "pizza 🍕🍕 party 😀👍 ok 👍"},
        {name: "invisible", text: "zero\u200bwidth soft\u00adhyphen tab\there\nnewline\r\nend\u00a0nbsp"},
        {name: "mixed", text: "ABC123 def456 2024-12-02T14:20:00Z 0x1F CamelCaseWord snake_case_word"},
        {name: "scripts", text: "مرحبا नमस्ते שלום สวัสดี"},
        {name: "long_word", text: "pneumonoultramicroscopicsilicovolcanoconiosis " + "abc".repeat(40)},
        {name: "long", text: longText(490, countTokens)},
        {name: "whitespace", text: " \t\n  \u3000 "},
        {name: "empty", text: ""},
    ];
}

// ---- llama.cpp ----------------------------------------------------------
function round7(v) {
    return Number(v.toPrecision(7));
}

async function runModel(llama, file, texts, {threads, flashAttention, logSink}) {
    logSink.length = 0;
    const model = await llama.loadModel({modelPath: file, gpuLayers: 0, defaultContextFlashAttention: flashAttention});
    const nCtx = model.trainContextSize;
    const ctx = await model.createEmbeddingContext({contextSize: nCtx, batchSize: nCtx, threads});
    const bos = model.tokens.bos, sep = model.tokens.sep;
    const out = [];
    for (const t of texts) {
        const pieces = model.tokenize(t.text); // add_special false, parse_special false
        const viaText = await ctx.getEmbeddingFor(t.text);
        const ids = [...pieces];
        if (ids[0] !== bos) ids.unshift(bos); // as LlamaEmbeddingContext._prepareInput
        if (ids.at(-1) !== sep) ids.push(sep);
        const viaIds = await ctx.getEmbeddingFor(ids);
        const v = viaIds.vector;
        if (viaText.vector.length !== 0) {
            // the text path and the ids path must be the same evaluation
            let d = 0;
            for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(v[i] - viaText.vector[i]));
            if (d !== 0) throw new Error(`${t.name}: text and ids paths differ by ${d}`);
        }
        out.push({name: t.name, tokens: ids.map(Number), vector: Array.from(v, round7),
            node_llama_cpp_vector_length: viaText.vector.length});
    }
    const info = {
        n_embd: model.embeddingVectorSize,
        context_size: ctx._llamaContext?.contextSize ?? nCtx,
        vocabulary_type: model.vocabularyType,
        bos, sep,
    };
    await ctx.dispose();
    await model.dispose();
    const log = logSink.slice();
    return {out, info, log};
}

function checkLog(log, file) {
    const bad = log.filter(l => l.level === "warn" || l.level === "error" || l.level === "fatal")
        .map(l => ({...l, message: l.message.split(file).join(path.basename(file))}));
    const flash = log.map(l => l.message).filter(m => /flash_attn|Flash Attention/i.test(m)).map(s => s.trim());
    // Sorted: the log arrives from two threads in either order. The
    // "tokenize and then detokenize" warning is node-llama-cpp's own check
    // (uncased WordPiece cannot give the text back), not llama.cpp's.
    return {warnings: [...new Set(bad.map(l => l.message.trim()))].sort(), flash};
}

function parseArgs(argv) {
    const o = {threads: 1, flashAttention: false, outDir: null, models: null, keep: null, log: false};
    for (let i = 2; i < argv.length; i++) {
        const a = argv[i], v = () => argv[++i];
        if (a === "--gguf-gen") o.gen = path.resolve(v());
        else if (a === "--out-dir") o.outDir = path.resolve(v());
        else if (a === "--models") o.models = v().split(",");
        else if (a === "--threads") o.threads = Number(v());
        else if (a === "--flash-attention") { const f = v(); o.flashAttention = f === "auto" ? "auto" : f === "true"; }
        else if (a === "--keep") o.keep = path.resolve(v());
        else if (a === "--log") o.log = true;
        else if (a === "--model") o.model = path.resolve(v());
        else if (a === "--out") o.out = path.resolve(v());
        else if (a === "--texts") o.texts = path.resolve(v());
        else throw new Error(`unknown argument ${a}`);
    }
    if (!o.gen && !o.model) throw new Error("usage: --gguf-gen GGUF_GEN [--out-dir DIR] | --model FILE [--out FILE]");
    return o;
}

function writeJson(file, obj) {
    // One vector / token list per line: small diffs, still plain JSON.
    const s = JSON.stringify(obj, null, 1).replace(/\[\s+([-0-9.e,\s]+?)\s+\]/g,
        (m, inner) => "[" + inner.split(/,\s*/).join(",") + "]")
        .replace(/"gguf_gen": \[[^\]]*\]/, m => m.replace(/\s*\n\s*/g, " ").replace(/\[ /, "[").replace(/ \]/, "]"));
    fs.writeFileSync(file, s + "\n");
}

async function main() {
    const o = parseArgs(process.argv);
    const logSink = [];
    const llama = await getLlama({
        gpu: false, build: "never", logLevel: LlamaLogLevel.debug,
        logger: (level, message) => {
            logSink.push({level, message});
            if (o.log) process.stderr.write(`[${level}] ${message}${message.endsWith("\n") ? "" : "\n"}`);
        },
    });
    const settings = {
        node_llama_cpp: nlcVersion, llama_cpp_release: llamaRelease, build: llama.buildType,
        gpu: false, threads: o.threads, flash_attention: o.flashAttention,
        tokenize: "add_special true, parse_special false ([CLS] text [SEP])",
        pooling: "mean (pooling_type 1)", normalized: false, digits: 7,
    };

    if (o.model) {
        let texts;
        const tmp = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
        const count = s => tmp.tokenize(s).length + 2;
        texts = o.texts ? JSON.parse(fs.readFileSync(o.texts, "utf8")).map((t, i) => ({name: `t${i}`, text: t})) : buildTexts(count);
        await tmp.dispose();
        const r = await runModel(llama, o.model, texts, {threads: o.threads, flashAttention: o.flashAttention, logSink});
        const chk = checkLog(r.log, o.model);
        const doc = {model: o.model, llama: {...settings, ...r.info, log_flash: chk.flash, warnings: chk.warnings},
            cases: r.out.map((c, i) => ({...c, text: texts[i].text}))};
        if (o.out) writeJson(o.out, doc); else process.stdout.write(JSON.stringify(doc) + "\n");
        for (const w of chk.warnings) process.stderr.write(`llama.cpp warning: ${w}\n`);
        return;
    }

    const outDir = o.outDir ?? path.resolve("tests/unit/data/embed");
    fs.mkdirSync(outDir, {recursive: true});
    const work = o.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), "embed-ref-"));
    fs.mkdirSync(work, {recursive: true});
    const models = o.models ? MODELS.filter(m => o.models.includes(m.id)) : MODELS;
    let texts = null, textTokens = null;
    const summary = [];
    for (const m of models) {
        const file = path.join(work, `${m.id}.gguf`);
        execFileSync(o.gen, ["nomic", file, ...m.args], {stdio: ["ignore", "ignore", "inherit"]});
        if (!texts) {
            const tmp = await llama.loadModel({modelPath: file, gpuLayers: 0});
            texts = buildTexts(s => tmp.tokenize(s).length + 2);
            await tmp.dispose();
        }
        const r = await runModel(llama, file, texts, {threads: o.threads, flashAttention: o.flashAttention, logSink});
        const chk = checkLog(r.log, file);
        if (!textTokens) {
            textTokens = r.out.map(c => c.tokens);
            const textsFile = path.join(outDir, "texts.json");
            writeJson(textsFile, {
                about: "Texts and llama.cpp's token ids for them ([CLS] ... [SEP]) for every model in this directory " +
                    "(all have the same gguf_gen vocabulary, V 2000). Written by tests/reference/embed_ref.mjs.",
                llama: {node_llama_cpp: nlcVersion, llama_cpp_release: llamaRelease,
                    tokenize: settings.tokenize, vocabulary_type: r.info.vocabulary_type},
                cases: texts.map((t, i) => ({name: t.name, text: t.text, tokens: textTokens[i],
                    node_llama_cpp_vector_length: r.out[i].node_llama_cpp_vector_length})),
            });
        } else {
            r.out.forEach((c, i) => {
                if (JSON.stringify(c.tokens) !== JSON.stringify(textTokens[i]))
                    throw new Error(`${m.id}: tokens of ${c.name} differ from texts.json`);
            });
        }
        if (chk.warnings.length) process.stderr.write(`${m.id}: llama.cpp warnings:\n  ${chk.warnings.join("\n  ")}\n`);
        writeJson(path.join(outDir, `${m.id}.json`), {
            id: m.id,
            gguf_gen: ["nomic", "OUT", ...m.args],
            gguf_sha256: sha256(file),
            texts: "texts.json",
            llama: {...settings, n_embd: r.info.n_embd, context_size: r.info.context_size,
                log_flash: chk.flash, warnings: chk.warnings},
            vectors: r.out.map(c => c.vector),
        });
        const norms = r.out.map(c => Math.hypot(...c.vector));
        summary.push(`${m.id}: n_embd ${r.info.n_embd}, ${r.out.length} vectors, |v| ${Math.min(...norms).toFixed(3)}..${Math.max(...norms).toFixed(3)}, warnings ${chk.warnings.length}, ${chk.flash.join(" / ")}`);
        if (!o.keep) fs.unlinkSync(file);
    }
    if (!o.keep) fs.rmSync(work, {recursive: true, force: true});
    process.stdout.write(summary.join("\n") + "\n");
}

function sha256(file) {
    return execFileSync("sha256sum", [file]).toString().split(" ")[0];
}

await main();
