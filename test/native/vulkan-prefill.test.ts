// Batched prefill of the Vulkan backend (native/src/vulkan: a prompt in chunks of prefillChunk tokens,
// one submission each) against the same backend token by token (prefillChunk 1) and the native CPU
// backend, on tiny random models (CI: SwiftShader). Chunks of 4 tokens so that short prompts cover
// one token, a chunk minus one, exactly a chunk, several chunks plus a remainder, and a prompt
// appended after decode steps (a chunk starting mid-cache and crossing into a second one).
//
// Batched and token-by-token run the same float32 arithmetic per token (the same shaders; the GEMM's
// integer sums are exact; attention reads k, v of its own position from the cache instead of a
// copy of the same floats): their logits must be identical. Against the CPU backend (float64
// quantizer inputs) the tolerance of vulkan.test.ts applies (FLIP; greedy tokens equal).
import { describe, expect } from 'vitest';
import type { ModelConfig } from '../../engine/common/config.js';
import { randomModelWeights } from '../../engine/common/random-model.js';
import { argmax } from '../../engine/common/reference.js';
import { NativeCpuModel } from '../../engine/node/native/cpu-model.js';
import { VULKAN_SCHEMES, VulkanModel } from '../../engine/node/vulkan/vulkan-model.js';
import { BOS, testConfig } from '../engine/node/helpers.js';
import { maxDiff } from '../reference-compare.js';
import { gpuTest as gpu } from './vulkan-device.js';

const FLIP = 0.25;
const CHUNK = 4;

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64, relu2glu, tied, GQA 4/2)', testConfig()],
  ['hidden 48 = 12*4, ffn 80 = 20*4, swiglu, untied', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false })],
];

const PROMPT = [BOS, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114];

/** Dispatches of one decode step / prompt chunk with the LM head (vulkan_model.cc's lists). */
function dispatchesPerSubmission(config: ModelConfig, hadamard: boolean, batched: boolean): number {
  // embed; per layer prep, gemv, attention (batched: KV write + attention), site input (3 with the
  // Hadamard transform), gemv, prep, gemv, site input, gemv; final norm, LM head.
  return 1 + config.numLayers * ((hadamard ? 13 : 9) + (batched ? 1 : 0)) + 2;
}

describe('vulkan batched prefill', () => {
  describe.each(SHAPES)('%s', (_label, config) => {
    const weights = randomModelWeights(config, 23);
    for (const scheme of VULKAN_SCHEMES) {
      gpu(`${scheme}: prompts of 1, ${CHUNK - 1}, ${CHUNK}, ${PROMPT.length} tokens, greedy steps, a prompt appended: as token by token and the CPU`, () => {
        const batched = new VulkanModel(weights, { scheme, kvBits: 16, prefillChunk: CHUNK });
        const single = new VulkanModel(weights, { scheme, kvBits: 16, prefillChunk: 1 });
        const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1, lmHead: 'full' });
        try {
          const all = (ids: number[]) => [batched.forward(ids), single.forward(ids), cpu.forward(ids)] as const;
          const check = (what: string, [a, b, c]: readonly [Float32Array, Float32Array, Float32Array]) => {
            expect(maxDiff(a, b), `${what}: batched vs token by token`).toBe(0);
            expect(maxDiff(a, c), `${what}: batched vs CPU`).toBeLessThan(FLIP);
            expect(argmax(a), `${what}: greedy token`).toBe(argmax(c));
            return argmax(c);
          };
          let next = 0;
          for (const n of [1, CHUNK - 1, CHUNK, PROMPT.length]) {
            for (const m of [batched, single, cpu]) m.reset();
            next = check(`prompt of ${n}`, all(PROMPT.slice(0, n)));
          }
          for (let s = 0; s < 3; s++) next = check(`greedy step ${s}`, all([next]));
          const appended = [next, 200, 201, 202, 203];
          check('appended prompt', all(appended));
          expect(batched.position).toBe(PROMPT.length + 3 + appended.length);
          expect(batched.position).toBe(cpu.position);
          // Submissions: ceil(n / CHUNK) per prompt, one per decode step.
          const t = batched.gpuTimes();
          const prompts = [1, CHUNK - 1, CHUNK, PROMPT.length, appended.length];
          expect(t.submissions).toBe(prompts.reduce((s, n) => s + Math.ceil(n / CHUNK), 0) + 3);
          expect(t.steps).toBe(prompts.reduce((s, n) => s + n, 0) + 3);
        } finally {
          batched.dispose();
          single.dispose();
        }
      });
    }
  });

  gpu('dispatches and submissions per prompt: one command buffer per chunk', () => {
    const config = testConfig();
    const weights = randomModelWeights(config, 29);
    for (const [scheme, hadamard] of [
      ['b1.58', false],
      ['v2-a4', true],
    ] as const) {
      const batched = new VulkanModel(weights, { scheme, kvBits: 16, prefillChunk: CHUNK });
      const single = new VulkanModel(weights, { scheme, kvBits: 16, prefillChunk: 1 });
      try {
        expect(maxDiff(batched.forward(PROMPT), single.forward(PROMPT))).toBe(0);
        const step = dispatchesPerSubmission(config, hadamard, false);
        const chunk = dispatchesPerSubmission(config, hadamard, true);
        // Prompt submissions other than the last skip the final norm and the LM head.
        expect(single.gpuTimes()).toMatchObject({ submissions: PROMPT.length, dispatches: PROMPT.length * (step - 2) + 2 });
        expect(batched.gpuTimes()).toMatchObject({ submissions: 3, dispatches: 3 * (chunk - 2) + 2 });
        batched.forward([5]);
        expect(batched.gpuTimes()).toMatchObject({ submissions: 4, dispatches: 3 * (chunk - 2) + 2 + step });
      } finally {
        batched.dispose();
        single.dispose();
      }
    }
  });

  // The default chunk (32 rows in gemm.comp's accumulators); rows of 5 and 3 uvec4s (more than one
  // per lane where subgroups are 4 wide), a head dim of 80.
  gpu('default chunk: a 70-token prompt (2 chunks + 6) as token by token, then greedy steps', () => {
    const config = testConfig({ hiddenSize: 320, numHeads: 4, numKvHeads: 2, headDim: 80, intermediateSize: 192, numLayers: 1 });
    const weights = randomModelWeights(config, 37);
    const prompt = Array.from({ length: 70 }, (_, i) => (i * 53 + 7) % 256);
    for (const scheme of ['b1.58', 'v2-a4'] as const) {
      const batched = new VulkanModel(weights, { scheme, kvBits: 16 });
      const single = new VulkanModel(weights, { scheme, kvBits: 16, prefillChunk: 1 });
      try {
        let a = batched.forward(prompt);
        let b = single.forward(prompt);
        expect(batched.gpuTimes().submissions).toBe(3);
        for (let s = 0; s < 3; s++) {
          expect(maxDiff(a, b), `${scheme} step ${s}`).toBe(0);
          const next = argmax(b);
          a = batched.forward([next]);
          b = single.forward([next]);
        }
      } finally {
        batched.dispose();
        single.dispose();
      }
    }
  });

  gpu('context-limit and bad-token errors before any work; the model goes on after them', () => {
    const config = testConfig({ maxPositionEmbeddings: 12 });
    const weights = randomModelWeights(config, 31);
    const vk = new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, prefillChunk: CHUNK });
    const single = new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, prefillChunk: 1 });
    try {
      vk.forward(PROMPT.slice(0, 6));
      expect(() => vk.forward(PROMPT.slice(0, 7))).toThrow(/context length 12 exceeded: 6 cached \+ 7 new tokens/);
      expect(() => vk.forward([1, 2, config.vocabSize, 3, 4])).toThrow(/token id 260 outside the vocabulary \(260\)/);
      expect(() => vk.forward([1, -1])).toThrow(/token id -1 outside the vocabulary/);
      expect(vk.position).toBe(6);
      single.forward(PROMPT.slice(0, 6));
      // The last 6 positions of the context: a chunk and a remainder up to the limit.
      expect(maxDiff(vk.forward(PROMPT.slice(5, 11)), single.forward(PROMPT.slice(5, 11)))).toBe(0);
      expect(vk.position).toBe(12);
      expect(() => vk.forward([1])).toThrow(/context length 12 exceeded: 12 cached \+ 1 new tokens/);
    } finally {
      vk.dispose();
      single.dispose();
    }
  });

  gpu('refuses a prefill chunk outside 1..64', () => {
    const weights = randomModelWeights(testConfig(), 3);
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, prefillChunk: 0 })).toThrow(/prefillChunk must be in 1\.\.64/);
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, prefillChunk: 65 })).toThrow(/prefillChunk must be in 1\.\.64/);
  });
});
