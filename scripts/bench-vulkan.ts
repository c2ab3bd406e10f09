// The Vulkan backend on a model folder (issue 7's GPU targets): per scheme, decode tok/s (wall
// clock), GPU ms per token from timestamp queries, the share of the bandwidth bound (weight bytes
// per token as stored on the GPU / --bandwidth), per-kernel GPU times (a second model with a
// timestamp after every dispatch), and a check against the native CPU backend (max |logit
// difference| and greedy tokens over --verify steps). Prefill: the prompt in batched chunks of
// --prefill-chunk tokens (default 32; 1: token by token), with the dispatches and submissions it took.
// A benchmark, not a test.
//
//   npx tsx scripts/bench-vulkan.ts --model DIR [--schemes b1.58,v2-a4] [--prompt-tokens 64]
//       [--gen-tokens 64] [--verify 8] [--bandwidth 3284] [--threads N] [--no-profile]
//       [--gemv-rows 1,2,4] [--attention-splits 6,16] [--prefill-chunk 1,32,64]   (variants timed one
//       after the other; profile and verify use the first of each)
import { parseArgs } from 'node:util';
import { argmax } from '../engine/common/reference.js';
import { seededRandom } from '../engine/common/sampling.js';
import type { Scheme } from '../engine/common/scheme.js';
import { loadModelDir } from '../engine/node/model-dir.js';
import { NativeCpuModel } from '../engine/node/native/cpu-model.js';
import { VulkanModel } from '../engine/node/vulkan/vulkan-model.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    schemes: { type: 'string', default: 'b1.58,v2-a4' },
    'prompt-tokens': { type: 'string', default: '64' },
    'gen-tokens': { type: 'string', default: '64' },
    verify: { type: 'string', default: '8' },
    bandwidth: { type: 'string', default: '3284' },
    threads: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    'gemv-rows': { type: 'string' },
    'attention-splits': { type: 'string' },
    'prefill-chunk': { type: 'string' },
  },
  strict: true,
});
if (!values.model) throw new RangeError('usage: npx tsx scripts/bench-vulkan.ts --model DIR [--schemes b1.58,v2-a4] [--prompt-tokens N] [--gen-tokens N] [--verify N] [--bandwidth GB/s]');
const P = Number(values['prompt-tokens']);
const G = Number(values['gen-tokens']);
const V = Number(values.verify);
const bw = Number(values.bandwidth);
const fmt = (x: number, d = 2) => x.toFixed(d);
const list = (v: string | undefined) => (v ? v.split(',').map(Number) : [undefined]);
const variants = list(values['gemv-rows']).flatMap((gemvRows) =>
  list(values['attention-splits']).flatMap((attentionSplits) => list(values['prefill-chunk']).map((prefillChunk) => ({ gemvRows, attentionSplits, prefillChunk }))),
);
const describe = (v: (typeof variants)[number]) =>
  [v.gemvRows && `GEMV rows per subgroup ${v.gemvRows}`, v.attentionSplits && `attention splits ${v.attentionSplits}`, v.prefillChunk && `prefill chunk ${v.prefillChunk}`]
    .filter(Boolean)
    .join(', ');

const t0 = performance.now();
const { weights } = await loadModelDir(values.model);
console.log(`model ${values.model} loaded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
const random = seededRandom(1234);
const prompt = Array.from({ length: P }, () => Math.floor(random() * Math.min(256, weights.config.vocabSize)));

for (const scheme of values.schemes.split(',') as Scheme[]) {
  let tokens: number[] = [];
  for (const v of variants) {
    const tl = performance.now();
    const vk = new VulkanModel(weights, { scheme, kvBits: 16, ...v });
    console.log(`\n${scheme}${describe(v) ? ` (${describe(v)})` : ''}: ${vk.device.name} (${vk.device.type}), upload ${fmt((performance.now() - tl) / 1000, 1)} s, ${fmt(vk.weightBytesPerToken / 1e9, 3)} GB of weights per token`);
    // Warm-up (first submissions), then the timed run.
    vk.forward(prompt.slice(0, 4));
    for (let i = 0; i < 3; i++) vk.forward([1]);
    vk.reset();
    const g0 = vk.gpuTimes();
    const tp = performance.now();
    let t = argmax(vk.forward(prompt));
    const prefillMs = performance.now() - tp;
    const g1 = vk.gpuTimes();
    const td = performance.now();
    tokens = [t];
    for (let i = 1; i < G; i++) tokens.push((t = argmax(vk.forward([t]))));
    const decodeMs = performance.now() - td;
    const g2 = vk.gpuTimes();
    const gpuPerToken = (g2.totalMs - g1.totalMs) / (g2.steps - g1.steps);
    const tokS = ((G - 1) / decodeMs) * 1000;
    const boundMs = (vk.weightBytesPerToken / (bw * 1e9)) * 1000;
    console.log(
      `prefill ${P} tokens (${g1.submissions - g0.submissions} submissions, ${g1.dispatches - g0.dispatches} dispatches): ${fmt(prefillMs, 1)} ms (${fmt((P / prefillMs) * 1000, 1)} tok/s, GPU ${fmt((g1.totalMs - g0.totalMs) / (g1.steps - g0.steps), 3)} ms/token)`,
    );
    console.log(
      `decode ${G - 1} tokens: ${fmt(decodeMs / (G - 1), 3)} ms/token wall = ${fmt(tokS, 1)} tok/s; GPU ${fmt(gpuPerToken, 3)} ms/token; bound ${fmt(boundMs, 3)} ms at ${bw} GB/s -> ${fmt((100 * boundMs) / (decodeMs / (G - 1)), 1)}% of the bound (GPU time alone: ${fmt((100 * boundMs) / gpuPerToken, 1)}%)`,
    );
    // Where the wall time beyond the GPU goes: submission + fence wake-up, the logits copy, the rest
    // (the addon call, the Float32Array, argmax in JS).
    const n = g2.steps - g1.steps;
    const wait = (g2.submitWaitMs - g1.submitWaitMs) / n;
    const copy = (g2.readbackMs - g1.readbackMs) / n;
    console.log(
      `host per token: submit..fence ${fmt(wait, 3)} ms (${fmt(wait - gpuPerToken, 3)} beyond the GPU), logits copy ${fmt(copy, 3)} ms, the rest (addon call, argmax) ${fmt(decodeMs / (G - 1) - wait - copy, 3)} ms`,
    );
    vk.dispose();
  }

  if (!values['no-profile']) {
    const vp = new VulkanModel(weights, { scheme, kvBits: 16, profile: true, ...variants[0] });
    vp.forward(prompt);
    const p0 = vp.gpuTimes();
    let x = tokens[0];
    for (let i = 1; i < 17; i++) x = argmax(vp.forward([x]));
    const p1 = vp.gpuTimes();
    const n = p1.steps - p0.steps;
    const rows = Object.entries(p1.kernelsMs).map(([k, ms]) => [k, (ms - p0.kernelsMs[k]) / n] as const);
    console.log(`per-kernel GPU ms/token (timestamps after every dispatch, ${n} steps after the prompt; total ${fmt((p1.totalMs - p0.totalMs) / n, 3)} ms):`);
    console.log(rows.map(([k, ms]) => `  ${k.padEnd(12)} ${fmt(ms, 4)}`).join('\n'));
    vp.dispose();
  }

  if (V > 0) {
    const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: values.threads ? Number(values.threads) : undefined, lmHead: 'full' });
    const vv = new VulkanModel(weights, { scheme, kvBits: 16, ...variants[0] });
    // The same backend token by token: the batched prefill should give the same logits.
    const vt = new VulkanModel(weights, { scheme, kvBits: 16, ...variants[0], prefillChunk: 1 });
    let ids = prompt.slice(0, 16);
    let maxDiff = 0;
    let maxAbs = 0;
    let batchDiff = 0;
    const a: number[] = [];
    const b: number[] = [];
    for (let s = 0; s < V; s++) {
      const x = vv.forward(ids);
      const y = cpu.forward(ids);
      const z = vt.forward(ids);
      for (let i = 0; i < x.length; i++) {
        batchDiff = Math.max(batchDiff, Math.abs(x[i] - z[i]));
        maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
        maxAbs = Math.max(maxAbs, Math.abs(y[i]));
      }
      a.push(argmax(x));
      b.push(argmax(y));
      ids = [b[b.length - 1]];
    }
    console.log(`verify vs native CPU (${V} steps after ${Math.min(16, prompt.length)} prompt tokens): max |logit diff| ${fmt(maxDiff, 5)} of max |logit| ${fmt(maxAbs, 2)}; greedy ${a.join() === b.join() ? 'equal' : `DIFFER: ${a.join()} vs ${b.join()}`}`);
    console.log(`verify batched prefill vs token by token (same steps): max |logit diff| ${batchDiff}`);
    vv.dispose();
    vt.dispose();
  }
}
