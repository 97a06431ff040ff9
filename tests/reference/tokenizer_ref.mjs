// Reference token ids from llama.cpp itself, for tests/unit/test_tokenizer.c.
// Run by hand (not in CI), from a directory where node-llama-cpp 3.22.1 is
// installed (its prebuilt CPU binary is enough):
//
//   build/bin/vocab_gen /tmp/v.gguf
//   build/bin/vocab_gen /tmp/v-cased.gguf --cased
//   build/bin/vocab_gen /tmp/v-nostrip.gguf --no-strip
//   node tests/reference/tokenizer_ref.mjs /tmp/v.gguf /tmp/v-cased.gguf \
//        /tmp/v-nostrip.gguf tests/unit/data/tokenizer
//
// Writes cases.json (the texts below with their ids, per vocabulary file)
// and sweep.json (every code point 0..U+2FFFF but the surrogates, in chunks
// of 256, each code point as a word "x<cp>y"; per chunk the id count and an
// FNV-1a digest of the ids, so the file stays small).
//
// model.tokenize(text, false) is llama_tokenize(add_special = false,
// parse_special = false); the embedding path (getEmbeddingFor) tokenizes the
// same way and then adds [CLS] and [SEP] around. A JS string cannot hold
// invalid UTF-8, so invalid bytes are tested in C only.
import fs from "node:fs";
import path from "node:path";
import {getLlama} from "node-llama-cpp";

const [fDefault, fCased, fNoStrip, outDir] = process.argv.slice(2);
if (!outDir) {
    console.error("usage: tokenizer_ref.mjs DEFAULT.gguf CASED.gguf NOSTRIP.gguf OUTDIR");
    process.exit(2);
}

const long = "The quick brown fox jumps over the lazy dog. ".repeat(40);
const longWord = "supercalifragilisticexpialidocious".repeat(30);
export const texts = [
    "", " ", "   \t\n ", "hello", "Hello World", "hello world", "HELLO, WORLD!",
    "3.14159", "naïve", "Naïve café résumé", "Straße", "straße über élan façade",
    "日本語のテキストと", "pizza 🍕🍕", "pizza 🍕 and 😀", "[CLS]", "[SEP] [MASK] [UNK] [PAD]",
    "search_query: what is a vector database?", "search_document: Deep learning models embed text.",
    "clustering: cats and dogs", "classification: I love this movie!",
    "don't can't won't o'clock", "e-mail co-operate state-of-the-art",
    "$100 + 5% = <tag> ^ `code` | ~tilde", "a+b=c", "1,000,000.00", "2024-12-31T23:59:59Z",
    "“Quotes” ‘single’ — em dash – en dash … ellipsis ¿Qué? ¡Hola!",
    "«guillemets» „low“ ‹single›", "€100 £50 ¥1000 ₹10 ©2024 ®™ °C ±5 ×÷",
    "Привет, мир! Москва — столица России.", "Ёлка ёж ЙОД йод", "Καλημέρα κόσμε, Αθήνα!",
    "ΆΈΉΊΌΎΏ άέήίόύώ ϊϋΐΰ", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "中国 東京 学生 大人 文字 漢字", "日本語テキスト、句読点。「括弧」", "こんにちは世界 カタカナ ひらがな",
    "안녕하세요 세계 한국어", "한국", "ｆｕｌｌｗｉｄｔｈ　ｓｐａｃｅ！", "Ⅻ ① ¼ ² ³ µ",
    "zero\u200bwidth zero\u200dwidth soft\u00adhyphen", "bidi\u202eoverride\u202c text",
    "tab\tsep\nnew\rline\u000bvt\u000cff", "nbsp\u00a0sep en\u2002em\u2003thin\u2009ideo\u3000end",
    "nel\u0085ls\u2028ps\u2029nnbsp\u202fmmsp\u205fogham\u1680x",
    "ctrl\u0001\u0007\u001b\u001f\u007f\u0080\u009fchars", "nul\u0000inside\u0000text",
    "combining e\u0301 a\u0300 o\u0308 n\u0303 c\u0327", "Å Å Å ǅ ǈ İstanbul ı",
    "Kelvin \u212a Ohm \u2126 angstrom \u212b", "ﬁ ﬂ ﬀ ligatures", "\u1fef\u1fed\u037e\u0387",
    "private\ue000use\udb80\udc00plane15", "noncharacter\ufdd0\uffff\ufffe", "replacement\ufffdchar",
    "emoji 👍🏽 👨‍👩‍👧 🇫🇷 ❤️ ✨", "math 𝐀𝐁𝐂 𝔸𝔹 ∑∫∂√∞ ≤≥≠", "arrows ←↑→↓ ↔",
    "CJK ext B 𠀀𠀁 compat 豈更 ext 𪜀", "mixed日本English中文русский123",
    "UPPER lower MiXeD CamelCase snake_case kebab-case", "URL https://example.com/a?b=c&d=e#f",
    "email user@example.com", "path /usr/local/bin C:\\Windows\\System32", "#hashtag @mention",
    "(parens) [brackets] {braces} <angles>", "a.b.c...d", "...", "!!!???", "____",
    "hello\u00a0world", "unbelievable unthinkable preprocessing", "mothers fathers friendship",
    long, longWord, "x" + longWord + "y", "ab".repeat(300), "q".repeat(700), "🍕".repeat(100),
    "日".repeat(50), "é".repeat(200) + " done",
];

function fnv(ids) {
    let h = 0x811c9dc5;
    for (const id of ids) {
        for (let k = 0; k < 4; k++) {
            h ^= (id >>> (8 * k)) & 0xff;
            h = Math.imul(h, 16777619) >>> 0;
        }
    }
    return h >>> 0;
}

export function sweepText(first) {
    let s = "";
    for (let cp = first; cp < first + 256; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        s += "x" + String.fromCodePoint(cp) + "y ";
    }
    return s;
}

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const variants = [["default", fDefault], ["cased", fCased], ["nostrip", fNoStrip]];
const cases = {source: "llama.cpp (node-llama-cpp 3.22.1) model.tokenize(text, false)", variants: {}};
const sweep = {source: cases.source, chunk: 256, last: 0x2ffff, variants: {}};
for (const [name, file] of variants) {
    const model = await llama.loadModel({modelPath: file, vocabOnly: true});
    cases.variants[name] = texts.map((text) => ({text, ids: Array.from(model.tokenize(text, false))}));
    const chunks = [];
    for (let first = 0; first <= 0x2ffff; first += 256) {
        const ids = Array.from(model.tokenize(sweepText(first), false));
        chunks.push([first, ids.length, fnv(ids)]);
    }
    sweep.variants[name] = chunks;
    await model.dispose();
}
fs.mkdirSync(outDir, {recursive: true});
fs.writeFileSync(path.join(outDir, "cases.json"), JSON.stringify(cases) + "\n");
// one chunk per line keeps diffs readable
const sw = JSON.stringify(sweep, null, 0).replace(/\],\[/g, "],\n[");
fs.writeFileSync(path.join(outDir, "sweep.json"), sw + "\n");
console.error(`wrote ${texts.length} texts x ${variants.length} and ${sweep.variants.default.length} chunks x ${variants.length}`);
