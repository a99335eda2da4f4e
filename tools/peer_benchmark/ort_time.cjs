// Times one ONNX file under ONNX Runtime (npm onnxruntime-node, CPU) for tools/peer_benchmark.py:
//   node ort_time.cjs MODULE_DIR MODEL INPUT.bin SHAPE(a,b,c,d) RUNS WARMUP THREADS OUTPUT.bin
// INPUT.bin holds the float32 input; OUTPUT.bin receives the first output (float32), so that
// the driver can check that both runtimes compute the same thing. Prints one JSON line.
"use strict";
const fs = require("fs");
const path = require("path");
const [moduleDir, model, inputBin, shapeText, runs, warmup, threads, outputBin] = process.argv.slice(2);
const ort = require(path.join(moduleDir, "node_modules", "onnxruntime-node"));

async function main() {
  const options = {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  };
  let t = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, options);
  const loadMs = Number(process.hrtime.bigint() - t) / 1e6;
  const shape = shapeText.split(",").map(Number);
  const bytes = fs.readFileSync(inputBin);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, shape) };
  let out;
  for (let i = 0; i < Number(warmup); ++i) out = await session.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(runs); ++i) {
    t = process.hrtime.bigint();
    out = await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const first = out[session.outputNames[0]];
  fs.writeFileSync(outputBin, Buffer.from(first.data.buffer, first.data.byteOffset, first.data.byteLength));
  console.log(JSON.stringify({ load_ms: loadMs, ms, output_shape: first.dims, ort_version: require(path.join(moduleDir, "node_modules", "onnxruntime-node", "package.json")).version }));
}
main().catch((e) => { console.error(`ort_time: ${model}: ${e.message || e}`); process.exit(1); });
