// Inspector taps on the Vulkan backend (native/src/vulkan: the prep dispatches of a step's last
// token also write their float quantizer inputs, and the SubLN output before the Hadamard
// transform) against the native CPU backend's taps (native/src/model.cc), per layer and site, on
// tiny random models (CI: SwiftShader): after a prompt (batched prefill in chunks of 4, and token by
// token), after decode steps, and after a prompt appended to the cache; through the engine as
// TapFrames; absent with taps off.
//
// Tolerance. A tap is a norm output (and its Hadamard transform), float32 on the GPU against
// float64 rounded to float32 on the CPU: in the first site of layer 0 they differ by float32
// rounding (~1e-7 of the vector's largest |x|). Downstream, the hidden state carries the GPU's
// float32 logits-level differences (vulkan.test.ts: ~1e-6), except where a quantizer input within
// rounding of a .5 boundary rounds the other way: one code moves by 1, and every later site moves by
// about one quantization step of that site's output (a few % of the vector's range on these tiny
// models). So: every site within REL = 1e-4 of the vector's largest |x| in at least 90% of the cases
// (measured on SwiftShader: all 80 within 8.5e-7, no flip), and in every case within FLIP = 0.1. A structural error (another layer's
// vector, the post-Hadamard vector stored as pre, a mask applied) is O(1) of the range: the test
// checks that its comparison catches those.
import { describe, expect } from 'vitest';
import type { LayerTaps, TapFrame } from '../../engine/common/api.js';
import type { ModelConfig } from '../../engine/common/config.js';
import { randomModelWeights } from '../../engine/common/random-model.js';
import { argmax } from '../../engine/common/reference.js';
import { schemeUsesHadamard } from '../../engine/common/scheme.js';
import { createEngine } from '../../engine/node/engine.js';
import { NativeCpuModel } from '../../engine/node/native/cpu-model.js';
import { VULKAN_SCHEMES, VulkanModel } from '../../engine/node/vulkan/vulkan-model.js';
import { BOS, testConfig, writeTempModel } from '../engine/node/helpers.js';
import { gpuTest as gpu } from './vulkan-device.js';

const REL = 1e-4;
const FLIP = 0.1;
const KEYS = ['qkv', 'o', 'gateup', 'down', 'oPreHadamard', 'downPreHadamard'] as const;
type Key = (typeof KEYS)[number];

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64, relu2glu, tied, GQA 4/2)', testConfig()],
  // Hadamard widths 48 = 12 * 4 and 80 = 20 * 4: H_K factors (hadp.comp + hadk.comp with K > 1).
  ['hidden 48 = 12*4, ffn 80 = 20*4, swiglu, untied', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false })],
];

const PROMPT = [BOS, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114];

/** Largest |a - b| over the largest |b| (0 for two zero vectors). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/**
 * The per-layer, per-site relative differences of two TapFrames' layers, after checking they have
 * the same layers, sites and lengths (the sites of `want` only: Hadamard schemes have the pre-transform ones).
 */
function tapDiffs(got: LayerTaps[], want: LayerTaps[]): { where: string; rel: number }[] {
  expect(got.length).toBe(want.length);
  const out: { where: string; rel: number }[] = [];
  for (let l = 0; l < want.length; l++) {
    expect(Object.keys(got[l]).sort(), `layer ${l}: sites`).toEqual(Object.keys(want[l]).sort());
    for (const k of KEYS) {
      const w = want[l][k];
      if (!w) continue;
      const g = got[l][k]!;
      expect(g, `layer ${l} ${k}`).toBeInstanceOf(Float32Array);
      expect(g.length, `layer ${l} ${k}: length`).toBe(w.length);
      out.push({ where: `layer ${l} ${k}`, rel: relDiff(g, w) });
    }
  }
  return out;
}

/** The worst site of a comparison. */
const worst = (d: { where: string; rel: number }[]) => d.reduce((a, b) => (b.rel > a.rel ? b : a), { where: '', rel: 0 });

describe('vulkan taps', () => {
  const rels: number[] = [];

  describe.each(SHAPES)('%s', (_label, config) => {
    const weights = randomModelWeights(config, 31);
    for (const scheme of VULKAN_SCHEMES) {
      for (const prefillChunk of [4, 1]) {
        gpu(`${scheme}, prompt ${prefillChunk === 1 ? 'token by token' : 'in chunks of 4'}: the CPU backend's taps after the prompt, decode steps and an appended prompt`, () => {
          const vk = new VulkanModel(weights, { scheme, kvBits: 16, taps: true, prefillChunk });
          const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1, taps: true, lmHead: 'full' });
          try {
            const hadamard = schemeUsesHadamard(scheme);
            const check = (what: string, ids: number[]) => {
              const a = vk.step(ids);
              const b = cpu.step(ids);
              const [ta, tb] = [a.taps!, b.taps!];
              expect(ta, what).toBeDefined();
              expect(ta.position, `${what}: position`).toBe(tb.position);
              expect(ta.tokenId, `${what}: tokenId`).toBe(tb.tokenId);
              expect(ta.layers.length).toBe(config.numLayers);
              expect(ta.layers.every((l) => (l.oPreHadamard !== undefined) === hadamard && (l.downPreHadamard !== undefined) === hadamard)).toBe(true);
              const diffs = tapDiffs(ta.layers, tb.layers);
              const w = worst(diffs);
              rels.push(w.rel);
              expect(w.rel, `${what}: ${w.where}`).toBeLessThan(FLIP);
              // The first site of layer 0 sees no quantization upstream: float32 rounding only.
              expect(diffs[0].rel, `${what}: layer 0 qkv`).toBeLessThan(1e-5);
              return argmax(b.logits);
            };
            let next = check('prompt', PROMPT);
            for (let s = 0; s < 3; s++) next = check(`decode step ${s}`, [next]);
            check('appended prompt', [next, 200, 201, 202, 203, 204]);
          } finally {
            vk.dispose();
          }
        });
      }
    }
  });

  gpu('agree with the CPU within REL in most cases (a code flipped at a .5 boundary excepted)', () => {
    expect(rels.length).toBeGreaterThan(0);
    const close = rels.filter((r) => r < REL).length;
    console.log(`taps vs CPU: ${rels.length} comparisons, ${close} within ${REL}; worst ${Math.max(...rels).toExponential(2)}; median ${rels.sort((x, y) => x - y)[rels.length >> 1].toExponential(2)}`);
    expect(close / rels.length).toBeGreaterThanOrEqual(0.9);
  });

  gpu('the comparison catches another layer, the post-Hadamard vector stored as pre, and a4.8 taps after the mask', () => {
    const config = testConfig();
    const weights = randomModelWeights(config, 32);
    for (const scheme of ['v2-a8', 'a4.8'] as const) {
      const vk = new VulkanModel(weights, { scheme, kvBits: 16, taps: true, prefillChunk: 4 });
      const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1, taps: true, lmHead: 'full' });
      try {
        const a = vk.step(PROMPT).taps!.layers;
        const b = cpu.step(PROMPT).taps!.layers;
        expect(worst(tapDiffs(a, b)).rel).toBeLessThan(FLIP);
        // Layers swapped.
        expect(worst(tapDiffs([a[1], a[0]], b)).rel).toBeGreaterThan(FLIP);
        if (scheme === 'v2-a8') {
          // The transformed vector where the one before the transform belongs, and back: each site alone.
          for (const [post, pre] of [['o', 'oPreHadamard'], ['down', 'downPreHadamard']] as const) {
            const swapped = a.map((l) => ({ ...l, [pre]: l[post], [post]: l[pre]! }));
            const d = tapDiffs(swapped, b);
            expect(d.find((x) => x.where === `layer 0 ${pre}`)!.rel).toBeGreaterThan(FLIP);
            expect(d.find((x) => x.where === `layer 1 ${post}`)!.rel).toBeGreaterThan(FLIP);
          }
        }
        // The CPU records W_o's input before a4.8's top-50% mask; a masked vector must not pass.
        const masked = a.map((l) => {
          const o = Float32Array.from(l.o);
          const order = Array.from(o.keys()).sort((i, j) => Math.abs(o[i]) - Math.abs(o[j]));
          for (const i of order.slice(0, o.length / 2)) o[i] = 0;
          return { ...l, o };
        });
        expect(worst(tapDiffs(masked, b)).rel).toBeGreaterThan(FLIP);
      } finally {
        vk.dispose();
      }
    }
  });

  gpu('are absent with taps off', () => {
    const weights = randomModelWeights(testConfig(), 33);
    const vk = new VulkanModel(weights, { scheme: 'v2-a4', kvBits: 16, prefillChunk: 4 });
    try {
      const out = vk.step(PROMPT);
      expect(out.taps).toBeUndefined();
      expect(vk.lastTaps).toEqual([]);
      expect(vk.step([5]).taps).toBeUndefined();
    } finally {
      vk.dispose();
    }
  });

  gpu('reach the engine: generate on device vulkan with taps yields a TapFrame per step, with its position and token id', async () => {
    const model = await writeTempModel(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80 }), 7);
    try {
      const sampling = { maxTokens: 5, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
      const vk = await createEngine(model.dir, { scheme: 'v2-a8', kvBits: 16, device: 'vulkan', taps: true });
      const cpu = await createEngine(model.dir, { scheme: 'v2-a8', kvBits: 16, device: 'cpu', taps: true }, { cpuBackend: 'native', threads: 1 });
      try {
        expect(vk.info.device).toBe('vulkan');
        const prompt = [BOS, 72, 105, 33];
        const frames: (TapFrame | undefined)[][] = [[], []];
        const tokens: number[][] = [[], []];
        for (const [i, e] of [vk, cpu].entries()) {
          await e.generateFromIds(prompt, sampling, (s) => {
            frames[i].push(s.taps);
            tokens[i].push(s.tokenId);
          }, undefined, { ignoreEos: true });
        }
        expect(tokens[0]).toEqual(tokens[1]);
        expect(frames[0].length).toBe(5);
        // Step s's frame is the token just run: the prompt's last (position 3), then each sampled one.
        const fed = [prompt[prompt.length - 1], ...tokens[0]];
        frames[0].forEach((f, s) => {
          expect(f, `step ${s}`).toBeDefined();
          expect(f!.position).toBe(prompt.length - 1 + s);
          expect(f!.tokenId).toBe(fed[s]);
          expect(f!.layers.length).toBe(2);
          expect(f!.position).toBe(frames[1][s]!.position);
          expect(f!.tokenId).toBe(frames[1][s]!.tokenId);
          expect(worst(tapDiffs(f!.layers, frames[1][s]!.layers)).rel).toBeLessThan(FLIP);
        });
      } finally {
        await vk.close();
        await cpu.close();
      }
    } finally {
      await model.cleanup();
    }
  });
});
