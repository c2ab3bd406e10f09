// The race (issue 7): BitLens (ONNX Runtime CPU path and the native backend, at A8 and A4) against
// llama.cpp (the prebuilt CPU binary of @node-llama-cpp/linux-x64) on the same random-weight model,
// written as GGUF TQ2_0 and TQ1_0 by engine/node/import/export-gguf.ts; on a GPU machine BitLens on
// onnxruntime-node WebGPU (webgpu-a8, webgpu-a4) against llama.cpp's Vulkan build
// (@node-llama-cpp/linux-x64-vulkan, every layer offloaded: llamavk-tq2_0, llamavk-tq1_0; its
// folder from LLAMA_VULKAN_ADDON_DIR), and BitLens' own Vulkan backend (native/src/vulkan:
// vulkan-a8, vulkan-a4) against the same. A benchmark, not a test.
//
//   npx tsx scripts/make-random-model.ts --shape 2b4t --out /tmp/race/model
//   npx tsx scripts/race-llamacpp.ts --model /tmp/race/model [--gguf-dir /tmp/race] [--threads 2]
//       [--prompt-tokens 64,512] [--gen-tokens 16] [--rounds 2] [--engines a,b,...] [--json FILE]
//       [--bandwidth GB/s]   (measured, scripts/webgpu-probe.ts bandwidth: prints the fraction of the bound)
//   npx tsx scripts/race-llamacpp.ts --model /tmp/race/model --interleave 20 [--block 8] [--prefill-rounds 3] [--engines ...]
//
// Every engine runs in its own child process (clean peak memory), one after the other, in alternating
// order over the rounds (round 2 runs the list backwards), on the same prompt token ids, with greedy
// decoding and the same thread count. Per prompt length: time to first token (prefill + first
// token), prefill tokens/s, decode tokens/s (after the first token), peak RSS of the process; then
// the ratio BitLens / llama.cpp's best ternary type for each metric (best round of each engine);
// GPU engines are compared with llama.cpp's GPU types, CPU engines with its CPU types. GPU engines
// also report the peak GPU memory the process added (nvidia-smi memory.used, sampled every 0.2 s).
//
// --interleave N: on a shared machine whose load swings by 5x within minutes, separate runs compare
// different loads. This mode loads every engine into one process (peak memory is then not per
// engine: take it from the default mode), prefills the first prompt length on each, then runs N
// rounds of `--block` decode tokens per engine, rotating the order every round, and reports per
// engine the median ms/token and, for BitLens, the median over rounds of the per-round ratio to the
// best llama.cpp type in the same round (paired, so load drift cancels).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { argmax } from '../engine/common/reference.js';
import { seededRandom } from '../engine/common/sampling.js';
import type { Scheme } from '../engine/common/scheme.js';
import { createEngine } from '../engine/node/engine.js';
import { exportGguf } from '../engine/node/import/export-gguf.js';
import { loadModelDir } from '../engine/node/model-dir.js';
import { checkLmHead, NativeCpuModel } from '../engine/node/native/cpu-model.js';

interface EngineSpec {
  label: string;
  kind: 'native' | 'ort' | 'llama' | 'vulkan';
  scheme?: Scheme;
  taps?: boolean;
  gguf?: 'TQ2_0' | 'TQ1_0';
  /** ORT: WebGPU instead of the CPU; llama.cpp: the Vulkan build with every layer on the GPU. */
  gpu?: boolean;
}

const ENGINES: Record<string, EngineSpec> = {
  'native-a8': { label: 'BitLens native, W1.58A8 (b1.58)', kind: 'native', scheme: 'b1.58' },
  'native-a4': { label: 'BitLens native, W1.58A4 (v2-a4)', kind: 'native', scheme: 'v2-a4' },
  'native-a4.8': { label: 'BitLens native, a4.8', kind: 'native', scheme: 'a4.8' },
  'native-a4-taps': { label: 'BitLens native, v2-a4, taps on', kind: 'native', scheme: 'v2-a4', taps: true },
  'ort-a8': { label: 'BitLens ORT CPU, W1.58A8 (b1.58)', kind: 'ort', scheme: 'b1.58' },
  'ort-a4': { label: 'BitLens ORT CPU, W1.58A4 (v2-a4)', kind: 'ort', scheme: 'v2-a4' },
  'ort-a4-taps': { label: 'BitLens ORT CPU, v2-a4, taps on', kind: 'ort', scheme: 'v2-a4', taps: true },
  'llama-tq2_0': { label: 'llama.cpp TQ2_0', kind: 'llama', gguf: 'TQ2_0' },
  'llama-tq1_0': { label: 'llama.cpp TQ1_0', kind: 'llama', gguf: 'TQ1_0' },
  'webgpu-a8': { label: 'BitLens WebGPU, W1.58A8 (b1.58)', kind: 'ort', scheme: 'b1.58', gpu: true },
  'webgpu-a4': { label: 'BitLens WebGPU, W1.58A4 (v2-a4)', kind: 'ort', scheme: 'v2-a4', gpu: true },
  'vulkan-a8': { label: 'BitLens Vulkan, W1.58A8 (b1.58)', kind: 'vulkan', scheme: 'b1.58', gpu: true },
  'vulkan-a4': { label: 'BitLens Vulkan, W1.58A4 (v2-a4)', kind: 'vulkan', scheme: 'v2-a4', gpu: true },
  'vulkan-a4.8': { label: 'BitLens Vulkan, a4.8', kind: 'vulkan', scheme: 'a4.8', gpu: true },
  'llamavk-tq2_0': { label: 'llama.cpp Vulkan TQ2_0', kind: 'llama', gguf: 'TQ2_0', gpu: true },
  'llamavk-tq1_0': { label: 'llama.cpp Vulkan TQ1_0', kind: 'llama', gguf: 'TQ1_0', gpu: true },
};
const DEFAULT_ENGINES = ['native-a8', 'native-a4', 'ort-a8', 'ort-a4', 'llama-tq2_0', 'llama-tq1_0'];

interface Measure {
  engine: string;
  promptTokens: number;
  genTokens: number;
  ttftMs: number;
  prefillTokS: number;
  decodeTokS: number;
  peakRssMiB: number;
  /** GPU engines: peak nvidia-smi memory.used while the process ran, minus the level before it. */
  peakGpuMiB?: number;
  loadMs: number;
  firstToken: number;
  note?: string;
}

interface WorkerArgs {
  engine: string;
  model: string;
  gguf: string;
  threads: number;
  prompts: number[];
  gen: number;
}

function promptIds(n: number): number[] {
  const random = seededRandom(1234);
  return Array.from({ length: n }, () => Math.floor(random() * 256));
}

const rssMiB = () => Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20);

/** A decoder as the race drives it: prefill returns the first token, step returns the next. */
interface Runner {
  load(): Promise<void>;
  /** Fresh sequence: runs the prompt and returns the first generated token (greedy). */
  prefill(ids: number[]): Promise<number>;
  step(token: number): Promise<number>;
  note?(): string;
}

function nativeRunner(a: WorkerArgs, spec: EngineSpec): Runner {
  let model: NativeCpuModel;
  // LM head of the native engines: screened (default; greedy needs the top 1) or full, from
  // BITLENS_RACE_LM_HEAD so both can be raced without new engine names.
  const lmHead = checkLmHead(process.env.BITLENS_RACE_LM_HEAD ?? 'screened', 'BITLENS_RACE_LM_HEAD');
  const need = { k: 1, repetitionPenalty: 1, context: [] };
  return {
    async load() {
      const m = await loadModelDir(a.model);
      model = new NativeCpuModel(m.weights, { scheme: spec.scheme!, kvBits: 16, threads: a.threads, taps: spec.taps, lmHead });
    },
    async prefill(ids) {
      model.reset();
      return argmax(model.forward(ids, need));
    },
    async step(t) {
      const logits = model.forward([t], need);
      if (spec.taps) void model.lastTaps; // the inspector reads them every step
      return argmax(logits);
    },
    note: () => {
      const h = model.headStats;
      return `kernels ${model.isa}, ${model.threads} threads, LM head ${lmHead}${h && h.steps ? ` (${(h.rescoredRows / h.steps).toFixed(0)} rows re-scored per token)` : ''}`;
    },
  };
}

function ortRunner(a: WorkerArgs, spec: EngineSpec): Runner {
  let engine: Awaited<ReturnType<typeof createEngine>>;
  return {
    async load() {
      const device = spec.kind === 'vulkan' ? 'vulkan' : spec.gpu ? 'webgpu' : 'cpu';
      // BITLENS_SESSION_CONFIG='{"key":"value"}': ORT session config entries for the ORT engines (benchmarks).
      const sessionConfig = process.env.BITLENS_SESSION_CONFIG ? (JSON.parse(process.env.BITLENS_SESSION_CONFIG) as Record<string, string>) : undefined;
      engine = await createEngine(a.model, { scheme: spec.scheme!, kvBits: 16, device, taps: !!spec.taps }, { threads: a.threads, cpuBackend: 'ort', sessionConfig });
      if (engine.info.device !== device) throw new Error(`${device} did not start: ${engine.info.deviceNote ?? engine.info.device}`);
    },
    async prefill(ids) {
      return argmax((await engine.forward(ids, true)).logits);
    },
    async step(t) {
      return argmax((await engine.forward([t])).logits);
    },
    note: () => `device ${engine.info.device}${engine.info.deviceNote ? ` (${engine.info.deviceNote})` : ""}`,
  };
}

// The subset of node-llama-cpp's addon (llama-addon.node, v3.22) the race uses.
interface LlamaAddon {
  setLogger(fn: (level: number, msg: string) => void): void;
  loadBackends(dir?: string): void;
  init(): Promise<void>;
  systemInfo(): string;
  AddonModel: new (file: string, o: object) => { init(): Promise<boolean>; getModelDescription(): string };
  AddonContext: new (model: object, o: object) => {
    init(): Promise<boolean>;
    initBatch(n: number): void;
    addToBatch(seq: number, firstPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
    decodeBatch(): Promise<void>;
    sampleToken(logitIndex: number, sampler: object): Promise<number>;
    disposeSequence(seq: number): void;
  };
  AddonSampler: new (model: object) => { applyConfig(c: object): void };
}

function llamaBinsDir(gpu: boolean): string {
  const env = gpu ? process.env.LLAMA_VULKAN_ADDON_DIR : process.env.LLAMA_ADDON_DIR;
  if (env) return env;
  const pkg = gpu ? '@node-llama-cpp/linux-x64-vulkan' : '@node-llama-cpp/linux-x64';
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve(pkg); // <pkg>/dist/index.js
  } catch {
    throw new Error(`${pkg} is not installed (optional dependency, Linux x64 only); set ${gpu ? 'LLAMA_VULKAN_ADDON_DIR' : 'LLAMA_ADDON_DIR'} to a folder with llama-addon.node`);
  }
  return path.join(path.dirname(main), '..', 'bins', gpu ? 'linux-x64-vulkan' : 'linux-x64');
}

/**
 * n_gpu_layers for the Vulkan build: the addon passes `gpuLayers` straight to llama.cpp's
 * model_params.n_gpu_layers; any value above the layer count offloads every repeating layer and the
 * output (node-llama-cpp's own 'max').
 */
const ALL_GPU_LAYERS = 999;

function llamaRunner(a: WorkerArgs, spec: EngineSpec): Runner {
  let ctx: InstanceType<LlamaAddon['AddonContext']>;
  let sampler: object;
  let pos = 0;
  let desc = '';
  let cpu = '';
  const batch = 512;
  return {
    async load() {
      const dir = llamaBinsDir(!!spec.gpu);
      const b = createRequire(import.meta.url)(path.join(dir, 'llama-addon.node')) as LlamaAddon;
      b.setLogger((level, msg) => {
        // GPU runs also log what llama.cpp put on the device (LLAMA_LOG=1: everything).
        if (level <= 2 || process.env.LLAMA_LOG || (spec.gpu && /offload|Vulkan|buffer size|ggml_vulkan|device|CPU_REPACK/i.test(msg))) process.stderr.write(`llama.cpp: ${msg}`);
      });
      b.loadBackends(dir);
      await b.init();
      cpu = b.systemInfo().split('|').map((s) => s.trim()).filter((s) => s.endsWith('= 1')).map((s) => s.split(' ')[0]).join(' ');
      const file = path.join(a.gguf, `model-${spec.gguf!.toLowerCase()}.gguf`);
      const model = new b.AddonModel(file, { addonExports: b, gpuLayers: spec.gpu ? ALL_GPU_LAYERS : 0, useMmap: true });
      if (!(await model.init())) throw new Error(`llama.cpp could not load ${file}`);
      desc = model.getModelDescription();
      ctx = new b.AddonContext(model, { contextSize: Math.max(...a.prompts) + a.gen + 8, batchSize: batch, sequences: 1, threads: a.threads, flashAttention: false });
      if (!(await ctx.init())) throw new Error('llama.cpp could not create the context');
      sampler = new b.AddonSampler(model);
      (sampler as { applyConfig(c: object): void }).applyConfig({ temperature: 0 });
    },
    async prefill(ids) {
      ctx.disposeSequence(0);
      pos = 0;
      let idx = 0;
      for (let s = 0; s < ids.length; s += batch) {
        const chunk = Uint32Array.from(ids.slice(s, s + batch));
        ctx.initBatch(chunk.length);
        const last = s + chunk.length === ids.length;
        const r = ctx.addToBatch(0, pos, chunk, last ? Uint32Array.of(chunk.length - 1) : new Uint32Array(0));
        await ctx.decodeBatch();
        pos += chunk.length;
        if (last) idx = r[0];
      }
      return ctx.sampleToken(idx, sampler);
    },
    async step(t) {
      ctx.initBatch(1);
      const r = ctx.addToBatch(0, pos++, Uint32Array.of(t), Uint32Array.of(0));
      await ctx.decodeBatch();
      return ctx.sampleToken(r[0], sampler);
    },
    note: () => `${desc}; ggml CPU: ${cpu}${spec.gpu ? `; n_gpu_layers ${ALL_GPU_LAYERS}` : ''}`,
  };
}

async function worker(a: WorkerArgs): Promise<void> {
  const runner = makeRunner(a, a.engine);
  const t0 = performance.now();
  await runner.load();
  const loadMs = performance.now() - t0;
  // Warm-up: a short prompt and a few steps (page in weights, start threads).
  let w = await runner.prefill(promptIds(8));
  for (let i = 0; i < 3; i++) w = await runner.step(w);
  for (const P of a.prompts) {
    const ids = promptIds(P);
    const s = performance.now();
    const first = await runner.prefill(ids);
    const ttft = performance.now() - s;
    const d = performance.now();
    let t = first;
    for (let i = 1; i < a.gen; i++) t = await runner.step(t);
    const decodeMs = performance.now() - d;
    const m: Measure = {
      engine: a.engine,
      promptTokens: P,
      genTokens: a.gen,
      ttftMs: ttft,
      prefillTokS: (P / ttft) * 1000,
      decodeTokS: ((a.gen - 1) / decodeMs) * 1000,
      peakRssMiB: rssMiB(),
      loadMs,
      firstToken: first,
      note: runner.note?.(),
    };
    process.stdout.write(`RESULT ${JSON.stringify(m)}\n`);
  }
}

function makeRunner(a: WorkerArgs, e: string): Runner {
  const spec = ENGINES[e];
  // The Vulkan engines go through createEngine (device 'vulkan') like the ORT ones.
  return spec.kind === 'native' ? nativeRunner(a, spec) : spec.kind === 'ort' || spec.kind === 'vulkan' ? ortRunner(a, spec) : llamaRunner(a, spec);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function interleaved(a: WorkerArgs, engines: string[], rounds: number, block: number, prefillRounds: number): Promise<void> {
  const runners = engines.map((e) => makeRunner(a, e));
  for (let i = 0; i < runners.length; i++) {
    const t = performance.now();
    await runners[i].load();
    console.log(`loaded ${engines[i]} in ${fmt(performance.now() - t, 0)} ms (${runners[i].note?.() ?? ''})`);
  }
  const P = a.prompts[0];
  const last: number[] = [];
  // Time to first token, `prefillRounds` times per engine in rotating order (the last prefill is the
  // context the decode rounds continue).
  const ttft: number[][] = engines.map(() => []);
  for (let r = 0; r < prefillRounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      const i = (k + r) % runners.length;
      const t = performance.now();
      last[i] = await runners[i].prefill(promptIds(P));
      ttft[i][r] = performance.now() - t;
    }
    console.log(`prefill ${P}, round ${r + 1}: ${engines.map((e, i) => `${e} ${fmt(ttft[i][r], 0)}`).join('  ')} ms`);
  }
  const ms: number[][] = engines.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      const i = (k + r) % runners.length;
      const t = performance.now();
      for (let s = 0; s < block; s++) last[i] = await runners[i].step(last[i]);
      ms[i][r] = (performance.now() - t) / block;
    }
    console.log(`round ${String(r + 1).padStart(2)}: ${engines.map((e, i) => `${e} ${fmt(ms[i][r], 0)}`).join('  ')} ms/token`);
  }
  // Ratios against the best llama.cpp type of the same round, or against the first engine when no
  // llama.cpp type runs (e.g. taps off vs on).
  const llama = engines.map((e, i) => (ENGINES[e].kind === 'llama' ? i : -1)).filter((i) => i >= 0);
  const peers = llama.length ? llama : [0];
  console.log(`\ninterleaved decode after a ${P}-token prompt, ${a.threads} threads, ${rounds} rounds x ${block} tokens per engine`);
  console.log(`| engine | median ms/token | median tok/s | best tok/s | paired speed ratio vs ${llama.length ? 'best llama.cpp' : engines[0]} (median over rounds) |`);
  console.log('|---|---|---|---|---|');
  for (let i = 0; i < engines.length; i++) {
    const ratios = peers.length && !peers.includes(i) ? ms[i].map((m, r) => Math.min(...peers.map((p) => ms[p][r])) / m) : [];
    console.log(`| ${ENGINES[engines[i]].label} | ${fmt(median(ms[i]))} | ${fmt(1000 / median(ms[i]), 2)} | ${fmt(1000 / Math.min(...ms[i]), 2)} | ${ratios.length ? `${fmt(median(ratios), 2)}x` : ''} |`);
  }
  console.log(`\nprefill of ${P} tokens (time to first token), ${prefillRounds} round(s) per engine`);
  console.log(`| engine | median TTFT ms | median prefill tok/s | paired speed ratio vs ${llama.length ? 'best llama.cpp' : engines[0]} (median over rounds) |`);
  console.log('|---|---|---|---|');
  for (let i = 0; i < engines.length; i++) {
    const ratios = !peers.includes(i) ? ttft[i].map((m, r) => Math.min(...peers.map((p) => ttft[p][r])) / m) : [];
    console.log(`| ${ENGINES[engines[i]].label} | ${fmt(median(ttft[i]), 0)} | ${fmt((P / median(ttft[i])) * 1000)} | ${ratios.length ? `${fmt(median(ratios), 2)}x` : ''} |`);
  }
}

/** Samples `nvidia-smi memory.used` (MiB) every 0.2 s until stopped; stop() gives the peak above the first reading. */
function gpuMemorySampler(): { stop(): Promise<number | undefined> } {
  const child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '200'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const readings: number[] = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += String(d);
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l.trim()) readings.push(Number(l.trim()));
  });
  const exited = new Promise<void>((r) => {
    child.on('error', () => r());
    child.on('close', () => r());
  });
  return {
    async stop() {
      child.kill();
      await exited;
      return readings.length > 1 ? Math.max(...readings) - readings[0] : undefined;
    },
  };
}

function runChild(a: WorkerArgs): Promise<Measure[]> {
  const sampler = ENGINES[a.engine].gpu ? gpuMemorySampler() : undefined;
  return new Promise<Measure[]>((resolve, reject) => {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), '--worker', a.engine, '--model', a.model, '--gguf-dir', a.gguf,
      '--threads', String(a.threads), '--prompt-tokens', a.prompts.join(','), '--gen-tokens', String(a.gen)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      // What llama.cpp said about the devices and offloading (GPU runs).
      for (const l of err.split('\n')) if (l.startsWith('llama.cpp:') && ENGINES[a.engine].gpu) console.log(`  ${a.engine} ${l}`);
      const rows = out.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Measure);
      if (code !== 0 || rows.length !== a.prompts.length) reject(new Error(`${a.engine} failed (exit ${code}): ${err.trim().split('\n').slice(-5).join('\n')}`));
      else resolve(rows);
    });
  }).then(
    async (rows) => {
      const gpu = await sampler?.stop();
      return rows.map((m) => ({ ...m, peakGpuMiB: gpu }));
    },
    async (e: unknown) => {
      await sampler?.stop();
      throw e;
    },
  );
}

/**
 * Weight bytes one decode token reads, per engine: the ternary projections at 2 bits per weight
 * (TQ1_0: 1.6875) plus the LM head (tied embedding) as the engine holds it: float32 in BitLens' ORT
 * engines (ORT folds the F16 -> F32 cast at load), F16 in llama.cpp, the native and the Vulkan engines.
 */
async function weightBytesPerToken(modelDir: string, spec: EngineSpec): Promise<number> {
  const c = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
  const d = c.hidden_size;
  const hd = d / c.num_heads;
  const perLayer = d * (c.num_heads * hd + 2 * c.num_kv_heads * hd) + c.num_heads * hd * d + 3 * d * c.intermediate_size;
  const ternaryBits = spec.gguf === 'TQ1_0' ? 1.6875 : 2;
  const headBytes = spec.kind === 'ort' ? 4 : 2;
  return (c.num_layers * perLayer * ternaryBits) / 8 + c.vocab_size * d * headBytes;
}

const fmt = (x: number, d = 1) => x.toFixed(d);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'gguf-dir': { type: 'string' },
      threads: { type: 'string' },
      'prompt-tokens': { type: 'string' },
      'gen-tokens': { type: 'string' },
      rounds: { type: 'string' },
      engines: { type: 'string' },
      json: { type: 'string' },
      worker: { type: 'string' },
      interleave: { type: 'string' },
      block: { type: 'string' },
      'prefill-rounds': { type: 'string' },
      bandwidth: { type: 'string' },
    },
    strict: true,
  });
  const usage = 'usage: npx tsx scripts/race-llamacpp.ts --model DIR [--gguf-dir DIR] [--threads N] [--prompt-tokens 64,512] [--gen-tokens N] [--rounds N] [--engines a,b] [--json FILE]';
  const int = (name: string, v: string | undefined, dflt: number, min: number): number => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}\n${usage}`);
    return n;
  };
  if (!values.model) throw new RangeError(`missing --model DIR (make one with scripts/make-random-model.ts --shape 2b4t)\n${usage}`);
  const a: WorkerArgs = {
    engine: values.worker ?? '',
    model: values.model,
    gguf: values['gguf-dir'] ?? path.dirname(path.resolve(values.model)),
    threads: int('threads', values.threads, 2, 1),
    prompts: (values['prompt-tokens'] ?? '64,512').split(',').map((s) => int('prompt-tokens', s, 0, 1)),
    gen: int('gen-tokens', values['gen-tokens'], 16, 2),
  };
  if (values.worker) {
    for (const e of values.worker.split(',')) if (!ENGINES[e]) throw new RangeError(`unknown engine ${e}`);
    if (values.interleave) {
      const rounds = int('interleave', values.interleave, 0, 1);
      const block = int('block', values.block, 8, 1);
      const prefillRounds = int('prefill-rounds', values['prefill-rounds'], 1, 1);
      return interleaved({ ...a, gen: rounds * block + 2 }, values.worker.split(','), rounds, block, prefillRounds); // gen sizes llama.cpp's context
    }
    return worker(a);
  }
  const engines = (values.engines ?? DEFAULT_ENGINES.join(',')).split(',');
  const unknown = engines.filter((e) => !ENGINES[e]);
  if (unknown.length) throw new RangeError(`unknown engine(s) ${unknown.join(', ')} (known: ${Object.keys(ENGINES).join(', ')})`);
  const rounds = int('rounds', values.rounds, 2, 1);
  if (values.interleave) {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), '--worker', engines.join(','), '--interleave', values.interleave, '--block', values.block ?? '8',
      '--prefill-rounds', values['prefill-rounds'] ?? '1',
      '--model', a.model, '--gguf-dir', a.gguf, '--threads', String(a.threads), '--prompt-tokens', String(a.prompts[0])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    await new Promise((resolve) => child.on('close', resolve));
    return;
  }

  for (const t of ['TQ2_0', 'TQ1_0'] as const) {
    const file = path.join(a.gguf, `model-${t.toLowerCase()}.gguf`);
    if (!engines.some((e) => ENGINES[e].gguf === t) || existsSync(file)) continue;
    console.log(`writing ${file} ...`);
    await exportGguf(await loadModelDir(a.model), file, { weightType: t });
  }

  const all: Measure[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...engines].reverse() : engines;
    for (const e of order) {
      const rows = await runChild({ ...a, engine: e });
      for (const m of rows) {
        all.push(m);
        console.log(`round ${r + 1} ${e.padEnd(15)} P=${String(m.promptTokens).padStart(4)}  TTFT ${fmt(m.ttftMs, 0).padStart(7)} ms  prefill ${fmt(m.prefillTokS).padStart(6)} tok/s  decode ${fmt(m.decodeTokS, 2).padStart(6)} tok/s  peak RSS ${m.peakRssMiB} MiB${m.peakGpuMiB !== undefined ? `  peak GPU +${m.peakGpuMiB} MiB` : ''}  first token ${m.firstToken}  load ${fmt(m.loadMs / 1000)} s`);
      }
    }
  }

  // Best round per engine and prompt length, then the ratios against llama.cpp's best ternary type.
  const best = new Map<string, Measure>();
  for (const m of all) {
    const k = `${m.engine}/${m.promptTokens}`;
    const b = best.get(k);
    if (!b) best.set(k, { ...m });
    else {
      b.ttftMs = Math.min(b.ttftMs, m.ttftMs);
      b.prefillTokS = Math.max(b.prefillTokS, m.prefillTokS);
      b.decodeTokS = Math.max(b.decodeTokS, m.decodeTokS);
      b.peakRssMiB = Math.min(b.peakRssMiB, m.peakRssMiB);
      if (m.peakGpuMiB !== undefined) b.peakGpuMiB = Math.min(b.peakGpuMiB ?? Infinity, m.peakGpuMiB);
    }
  }
  console.log(`\nbest of ${rounds} round(s), ${a.threads} threads, ${a.gen} generated tokens; ratio = BitLens / best llama.cpp ternary type (higher is better for tok/s, lower for TTFT and memory)`);
  const bw = values.bandwidth === undefined ? undefined : Number(values.bandwidth);
  const anyGpu = engines.some((e) => ENGINES[e].gpu);
  const bytes = new Map<string, number>();
  for (const e of engines) bytes.set(e, await weightBytesPerToken(a.model, ENGINES[e]));
  for (const P of a.prompts) {
    console.log(`\nprompt ${P} tokens`);
    console.log(`| engine | TTFT ms | prefill tok/s | decode tok/s | peak RSS MiB |${anyGpu ? ' peak GPU MiB | weight GB/token | decode GB/s |' : ''}${bw ? ` fraction of the bound (${bw} GB/s) |` : ''} decode ratio | prefill ratio | TTFT ratio | RSS ratio |`);
    console.log(`|---|---|---|---|---|${anyGpu ? '---|---|---|' : ''}${bw ? '---|' : ''}---|---|---|---|`);
    for (const e of engines) {
      // Peers: llama.cpp's types on the same kind of device.
      const peers = engines.filter((p) => ENGINES[p].kind === 'llama' && !!ENGINES[p].gpu === !!ENGINES[e].gpu).map((p) => best.get(`${p}/${P}`)!);
      const peerDecode = peers.length ? Math.max(...peers.map((p) => p.decodeTokS)) : NaN;
      const peerPrefill = peers.length ? Math.max(...peers.map((p) => p.prefillTokS)) : NaN;
      const peerTtft = peers.length ? Math.min(...peers.map((p) => p.ttftMs)) : NaN;
      const peerRss = peers.length ? Math.min(...peers.map((p) => p.peakRssMiB)) : NaN;
      const m = best.get(`${e}/${P}`)!;
      const ratio = ENGINES[e].kind === 'llama' ? ['', '', '', ''] : [m.decodeTokS / peerDecode, m.prefillTokS / peerPrefill, m.ttftMs / peerTtft, m.peakRssMiB / peerRss].map((x) => `${fmt(x, 2)}x`);
      const gbs = (bytes.get(e)! * m.decodeTokS) / 1e9;
      const gpuCols = anyGpu ? ` ${m.peakGpuMiB ?? ''} | ${fmt(bytes.get(e)! / 1e9, 2)} | ${fmt(gbs, 0)} |` : '';
      const bwCol = bw ? ` ${fmt((100 * gbs) / bw, 1)}% |` : '';
      console.log(`| ${ENGINES[e].label} | ${fmt(m.ttftMs, 0)} | ${fmt(m.prefillTokS)} | ${fmt(m.decodeTokS, 2)} | ${m.peakRssMiB} |${gpuCols}${bwCol} ${ratio.join(' | ')} |`);
    }
  }
  const notes = new Map(all.map((m) => [m.engine, m.note]));
  console.log(`\n${[...notes].map(([e, n]) => `${e}: ${n}`).join('\n')}`);
  if (values.json) await writeFile(values.json, JSON.stringify({ threads: a.threads, gen: a.gen, rounds, results: all }, null, 2));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
