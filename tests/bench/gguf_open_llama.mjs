// The llama.cpp reference for bench_gguf_open: the time node-llama-cpp's
// prebuilt llama.cpp takes to load a GGUF file with vocabOnly (header,
// metadata, tensor table and vocabulary; no weights), and the time of
// node-llama-cpp's own JavaScript GGUF reader (readGgufFileInfo).
//   cd PEERS && node /path/to/gguf_open_llama.mjs FILE [runs]
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";

// Resolve the package from the working directory (the peers folder), not
// from this script's folder inside the repository.
const require = createRequire(process.cwd() + "/");
const {getLlama, readGgufFileInfo} =
  await import(pathToFileURL(require.resolve("node-llama-cpp")).href);

const file = process.argv[2];
const runs = Number(process.argv[3] ?? 20);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function time(fn) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return {median: median([...t]), best: Math.min(...t)};
}

const vocab = await time(async () => {
  const m = await llama.loadModel({modelPath: file, vocabOnly: true});
  await m.dispose();
});
const js = await time(async () => { await readGgufFileInfo(file); });
console.log(`llama.cpp loadModel(vocabOnly)     median ${vocab.median.toFixed(3)} ms   best ${vocab.best.toFixed(3)} ms`);
console.log(`node-llama-cpp readGgufFileInfo    median ${js.median.toFixed(3)} ms   best ${js.best.toFixed(3)} ms`);
