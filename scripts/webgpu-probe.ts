// Measurements of onnxruntime-node's WebGPU backend for issue 7 (benchmarks, not tests):
//
//   node dist/scripts/webgpu-probe.js bandwidth
//     device-to-device bandwidth: chains of float32 Adds over 64 MiB tensors (4 interleaved chains,
//     so an op's input was written 3 ops earlier and is out of the 50 MB L2), timed against the
//     same graph on 16-element tensors (dispatch + sync cost alone); also the cost per dispatch.
//   node dist/scripts/webgpu-probe.js step --model DIR [--scheme b1.58] [--steps 24] [--variants a,b] [--profile FILE]
//     ms per decode step of the engine's GPU graph under WebGPU EP option variants; --profile writes
//     ORT's profile of the first variant and prints the kernel time per op type and provider.
//   node dist/scripts/webgpu-probe.js kernels
//     GPU time of the 2B-4T decode step's heavy kernels alone: 30 layers of 2-bit MatMulNBits
//     (q|k|v, o, gate|up, down; batch 1) and the LM head as 20 float32 Gemm chunks, each timed
//     against the same graph with tiny matrices (same dispatch count).
//   node dist/scripts/webgpu-probe.js capture
//     whether graph capture (session config ep.webgpuexecutionprovider.enableGraphCapture) works
//     from Node: a small graph run twice with different CPU inputs (run it in its own process: a
//     failed WebGPU session can abort the process).
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { Scheme } from '../engine/common/scheme.js';
import { EmbeddingTable } from '../engine/node/embedding.js';
import { compileGraph } from '../engine/node/graph/compile.js';
import { DT, GraphBuilder } from '../engine/node/graph/onnx-builder.js';
import { KvCache } from '../engine/node/kv-cache.js';
import { loadModelDir } from '../engine/node/model-dir.js';

type EpOptions = Record<string, string>;
const VARIANTS: Record<string, EpOptions> = {
  default: {},
  novalidate: { validationMode: 'disabled' },
  'novalidate-simple': { validationMode: 'disabled', storageBufferCacheMode: 'simple' },
};
/** Variants that pass the option as a session config entry (the route EngineOptions.sessionConfig takes). */
const CONFIG_VARIANTS: Record<string, Record<string, string>> = {
  'config-novalidate': { 'ep.webgpuexecutionprovider.validationMode': 'disabled' },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function webgpu(ep: EpOptions = {}): ort.InferenceSession.SessionOptions['executionProviders'] {
  return [{ name: 'webgpu', ...ep } as ort.InferenceSession.ExecutionProviderConfig, 'cpu'];
}

/** `chains` chains of `len` Adds over [n] float32, interleaved; output: element 0 of each chain's end. */
function addChains(n: number, chains: number, len: number): Uint8Array {
  const g = new GraphBuilder('gpu');
  const seed = g.input('seed', DT.FLOAT, [1]);
  const ends: string[] = [];
  let cur = Array.from({ length: chains }, () => g.node('Expand', [seed, g.constI([n])]));
  for (let s = 0; s < len; s++) cur = cur.map((x, c) => g.node('Add', [x, g.constF(1 + c)]));
  for (const x of cur) ends.push(g.node('Slice', [x, g.constI([0]), g.constI([1])]));
  g.output(g.node('Concat', ends, { axis: 0 }), 'y', DT.FLOAT, [chains]);
  return g.toBytes('bandwidth');
}

async function timeRuns(s: ort.InferenceSession, runs: number): Promise<number> {
  const feeds = { seed: new ort.Tensor('float32', Float32Array.of(1), [1]) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await s.run(feeds);
    ts.push(performance.now() - t);
  }
  return median(ts);
}

async function bandwidth(): Promise<void> {
  const n = 2 ** 24; // 64 MiB of float32
  const chains = 4;
  const len = 16;
  const opts = { executionProviders: webgpu({ validationMode: 'disabled' }), graphOptimizationLevel: 'disabled' as const };
  const big = await ort.InferenceSession.create(addChains(n, chains, len), opts);
  const small = await ort.InferenceSession.create(addChains(16, chains, len), opts);
  const tBig = await timeRuns(big, 15);
  const tSmall = await timeRuns(small, 15);
  // Each Add reads and writes n floats; each Expand writes n.
  const bytes = chains * len * 2 * 4 * n + chains * 4 * n;
  const gbs = bytes / ((tBig - tSmall) / 1000) / 1e9;
  console.log(`bandwidth: ${chains * len} Adds over 64 MiB (+${chains} Expands): ${tBig.toFixed(2)} ms; same graph on 16 floats: ${tSmall.toFixed(2)} ms`);
  console.log(`bandwidth: ${(bytes / 2 ** 30).toFixed(2)} GiB moved in ${(tBig - tSmall).toFixed(2)} ms = ${gbs.toFixed(0)} GB/s device-to-device (read + write)`);
  // Dispatch cost: chains of tiny Adds of two lengths.
  const d1 = await ort.InferenceSession.create(addChains(16, 1, 8), opts);
  const d2 = await ort.InferenceSession.create(addChains(16, 1, 1032), opts);
  const t1 = await timeRuns(d1, 15);
  const t2 = await timeRuns(d2, 15);
  console.log(`dispatch: ${((t2 - t1) / 1024 * 1000).toFixed(1)} us per tiny Add (validation off); a run with 9 tiny ops + readback: ${t1.toFixed(2)} ms`);
  for (const s of [big, small, d1, d2]) await s.release();
}

interface Summary {
  kernelUs: Map<string, { n: number; us: number }>;
  runs: number[];
}

function summarizeProfile(events: { cat: string; name: string; dur: number; args?: { op_name?: string; provider?: string } }[], skipRuns: number): Summary {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const start = skipRuns < runs.length ? (runs[skipRuns] as unknown as { ts: number }).ts : Infinity;
  const kernelUs = new Map<string, { n: number; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || (e as unknown as { ts: number }).ts < start) continue;
    const k = `${e.args?.op_name ?? '?'} @ ${e.args?.provider ?? '?'}`;
    const v = kernelUs.get(k) ?? { n: 0, us: 0 };
    v.n++;
    v.us += e.dur;
    kernelUs.set(k, v);
  }
  return { kernelUs, runs: runs.slice(skipRuns).map((r) => r.dur / 1000) };
}

async function step(values: Record<string, string | boolean | undefined>): Promise<void> {
  const model = await loadModelDir(String(values.model));
  const w = model.weights;
  const scheme = String(values.scheme ?? 'b1.58') as Scheme;
  const steps = Number(values.steps ?? 24);
  const graph = compileGraph(w, { scheme, kvBits: 16, taps: false, target: 'gpu', matmul: 'fp32' });
  const nodes = onnxProto.onnx.ModelProto.decode(graph.model).graph!.node!.length;
  console.log(`graph: ${scheme}, ${w.config.numLayers} layers, ${nodes} nodes`);
  const emb = new EmbeddingTable(w, w.config.hiddenSize);
  const variants = String(values.variants ?? 'default,novalidate').split(',');
  for (const [vi, v] of variants.entries()) {
    const profile = vi === 0 && values.profile ? String(values.profile) : undefined;
    const loc: Record<string, ort.Tensor.DataLocation> = { [graph.logits]: 'cpu' };
    for (const k of graph.kv) loc[k.present] = 'gpu-buffer';
    const t0 = performance.now();
    const s = await ort.InferenceSession.create(graph.model, {
      executionProviders: webgpu(VARIANTS[v]),
      ...(CONFIG_VARIANTS[v] ? { extra: CONFIG_VARIANTS[v] } : {}),
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      preferredOutputLocation: loc as ort.InferenceSession.SessionOptions['preferredOutputLocation'],
      ...(profile ? { enableProfiling: true, profileFilePrefix: profile } : {}),
    });
    const load = performance.now() - t0;
    const kv = new KvCache(graph.kv, graph.numKvHeads);
    const run = async (ids: number[]) => {
      const out = await s.run({ ...kv.feeds(), [graph.inputsEmbeds]: new ort.Tensor('float32', emb.lookup(ids), [1, ids.length, w.config.hiddenSize]) });
      kv.update(out, ids.length);
      return out[graph.logits] as ort.Tensor;
    };
    await run(Array.from({ length: 16 }, (_, i) => i + 3));
    const ts: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await run([40 + i]);
      ts.push(performance.now() - t);
    }
    console.log(`variant ${v} ${JSON.stringify(VARIANTS[v] ?? CONFIG_VARIANTS[v])}: session ${(load / 1000).toFixed(1)} s; decode median ${median(ts).toFixed(2)} ms/step, min ${Math.min(...ts).toFixed(2)} ms (${steps} steps)`);
    if (profile) {
      s.endProfiling(); // writes <prefix>_<timestamp>.json (the Node binding does not return the name)
      const dir = path.dirname(path.resolve(profile));
      const name = (await readdir(dir)).filter((f) => f.startsWith(path.basename(profile)) && f.endsWith('.json')).sort().pop();
      if (!name) throw new Error(`no profile file ${profile}_*.json`);
      const file = path.join(dir, name);
      const sum = summarizeProfile(JSON.parse(await readFile(file, 'utf8')), 1);
      const rows = [...sum.kernelUs].sort((a, b) => b[1].us - a[1].us);
      const total = rows.reduce((a, [, v]) => a + v.us, 0);
      const nRuns = sum.runs.length;
      console.log(`profile (${nRuns} decode runs, median model_run ${median(sum.runs).toFixed(2)} ms): kernel (host-side) time ${(total / nRuns / 1000).toFixed(2)} ms/step over ${(rows.reduce((a, [, v]) => a + v.n, 0) / nRuns).toFixed(0)} nodes/step`);
      for (const [k, v] of rows.slice(0, 30)) console.log(`  ${k.padEnd(44)} ${(v.n / nRuns).toFixed(0).padStart(5)} nodes/step  ${(v.us / nRuns / 1000).toFixed(2).padStart(7)} ms/step  ${(v.us / v.n).toFixed(1).padStart(7)} us/node`);
      if (!values.keep) await rm(file, { force: true });
    }
    kv.dispose();
    await s.release();
  }
}

/** [1, 1, K] -> y: `layers` x (q|k|v, o, gate|up, down) 2-bit MatMulNBits chained through Slices. */
export function ternaryLayers(layers: number, d: number, f: number, qkv: number): Uint8Array {
  const g = new GraphBuilder('gpu');
  let x = g.node('Expand', [g.input('seed', DT.FLOAT, [1]), g.constI([1, 1, d])]);
  const mm = (x: string, K: number, N: number) => {
    const bs = 128;
    const zpRow = Math.ceil(((K / bs) * 2) / 8); // 2-bit zero points per row, in bytes
    const B = new Uint8Array((N * K) / 4).map((_, i) => (i * 37) & 0xff);
    return g.node('MatMulNBits', [x, g.initializer(g.fresh('B'), DT.UINT8, [N, K / bs, bs / 4], B), g.f32(g.fresh('s'), [(N * K) / bs], new Float32Array((N * K) / bs).fill(1e-3)), g.initializer(g.fresh('z'), DT.UINT8, [N * zpRow], new Uint8Array(N * zpRow).fill(0x55))], { K, N, bits: 2, block_size: bs }, undefined, 'com.microsoft');
  };
  const first = (x: string, n: number) => g.node('Slice', [x, g.constI([0]), g.constI([n]), g.constI([2])]);
  for (let l = 0; l < layers; l++) {
    x = mm(first(mm(x, d, qkv), d), d, d);
    x = mm(first(mm(x, d, 2 * f), f), f, d);
  }
  g.output(first(x, 1), 'y', DT.FLOAT, [1, 1, 1]);
  return g.toBytes('ternary');
}

/** LM head: [1, d] x 20 chunks of [rows, d]^T (B made on the GPU by Expand: rows * d * 4 bytes written per chunk). */
export function lmHead(chunks: number, rows: number, d: number): Uint8Array {
  const g = new GraphBuilder('gpu');
  const seed = g.input('seed', DT.FLOAT, [1]);
  const x = g.node('Expand', [seed, g.constI([1, d])]);
  const parts: string[] = [];
  for (let c = 0; c < chunks; c++) {
    const B = g.node('Expand', [g.node('Add', [seed, g.constF(c)]), g.constI([rows, d])]);
    parts.push(g.node('Slice', [g.node('Gemm', [x, B], { transB: 1 }), g.constI([0]), g.constI([1]), g.constI([1])]));
  }
  g.output(g.node('Concat', parts, { axis: 1 }), 'y', DT.FLOAT, [1, chunks]);
  return g.toBytes('lmhead');
}

async function kernels(): Promise<void> {
  const opts = { executionProviders: webgpu({ validationMode: 'disabled' }), graphOptimizationLevel: 'disabled' as const };
  const time = async (model: Uint8Array) => {
    const s = await ort.InferenceSession.create(model, opts);
    const t = await timeRuns(s, 15);
    await s.release();
    return t;
  };
  const big = await time(ternaryLayers(30, 2560, 6912, 3840));
  const small = await time(ternaryLayers(30, 128, 256, 256));
  const bytes = (30 * 2560 * (3840 + 2560 + 2 * 6912) + 30 * 6912 * 2560) / 4;
  console.log(`ternary: 120 MatMulNBits (2-bit, 2B-4T shapes, batch 1): ${big.toFixed(2)} ms; tiny shapes: ${small.toFixed(2)} ms; difference ${(big - small).toFixed(2)} ms for ${(bytes / 1e6).toFixed(0)} MB of packed weights = ${(bytes / ((big - small) / 1000) / 1e9).toFixed(0)} GB/s`);
  const rows = 6413;
  const headBig = await time(lmHead(20, rows, 2560));
  const headSmall = await time(lmHead(20, 16, 128));
  const hb = 20 * rows * 2560 * 4;
  console.log(`lm head: 20 Gemm [1, 2560] x [${rows}, 2560]^T float32 (+ Expand writing B): ${headBig.toFixed(2)} ms; tiny: ${headSmall.toFixed(2)} ms; difference ${(headBig - headSmall).toFixed(2)} ms for ${(hb / 1e6).toFixed(0)} MB read + the same written = ${((2 * hb) / ((headBig - headSmall) / 1000) / 1e9).toFixed(0)} GB/s`);
}

/**
 * Graph capture from Node: y = x * 2 over [1, 4], run with x = 1, 3, 5, ... (ORT captures after a
 * few plain runs; a replay that ignored the new input would repeat an earlier y).
 */
async function capture(): Promise<void> {
  const g = new GraphBuilder('gpu');
  const x = g.input('x', DT.FLOAT, [1, 4]);
  g.output(g.node('Mul', [x, g.constF(2)]), 'y', DT.FLOAT, [1, 4]);
  const model = g.toBytes('capture');
  for (const loc of ['cpu', 'gpu-buffer'] as const) {
    try {
      const s = await ort.InferenceSession.create(model, {
        executionProviders: webgpu(),
        extra: { 'ep.webgpuexecutionprovider.enableGraphCapture': '1' },
        logSeverityLevel: 0, // ORT's verbose log says whether it captures and replays
        preferredOutputLocation: loc,
      });
      const results: string[] = [];
      let prev: ort.Tensor | undefined;
      for (const v of [1, 3, 5, 7, 9, 11, 13]) {
        const out = (await s.run({ x: new ort.Tensor('float32', new Float32Array(4).fill(v), [1, 4]) })).y as ort.Tensor;
        if (loc === 'cpu') results.push(String((out.data as Float32Array)[0]));
        else {
          results.push(`gpu-buffer ${out.dims.join('x')}`);
          prev = out;
        }
      }
      console.log(`capture, output on ${loc}: runs with x = 1, 3, 5, ..., 13 gave y[0] = ${results.join(', ')}`);
      if (prev) {
        // Feed the GPU output back as the input: does a captured graph accept a GPU-resident input?
        const again = (await s.run({ x: prev })).y as ort.Tensor;
        console.log(`capture, gpu output fed back: ${again.location} ${again.dims.join('x')}`);
      }
      await s.release();
    } catch (e) {
      console.log(`capture, output on ${loc}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { model: { type: 'string' }, scheme: { type: 'string' }, steps: { type: 'string' }, variants: { type: 'string' }, profile: { type: 'string' }, keep: { type: 'boolean' } },
});
const cmd = positionals[0];
const main = cmd === 'bandwidth' ? bandwidth : cmd === 'kernels' ? kernels : cmd === 'capture' ? capture : cmd === 'step' ? () => step(values) : undefined;
if (!main) {
  console.error('usage: webgpu-probe.js bandwidth | kernels | capture | step --model DIR [--scheme S] [--steps N] [--variants a,b] [--profile FILE]');
  process.exit(1);
}
main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
