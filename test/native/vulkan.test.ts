// The Vulkan backend (native/src/vulkan) against the native CPU backend on tiny random models, on
// whatever Vulkan device the machine has (CI: SwiftShader, a CPU implementation of Vulkan, through
// VK_ICD_FILENAMES), plus its refusals and errors. In CI (CI=true) a missing Vulkan device fails.
//
// Tolerance. The GPU computes in float32 where the CPU backend quantizes from float64 (norms,
// Hadamard, quantizer inputs); the ternary sums are exact integers on both. Logits then agree to
// ~1e-5 (float32 rounding of short sums: measured 2e-6 here), STRICT = 1e-3. A quantizer input
// within float32 rounding of a .5 boundary may round the other way (one code moves by 1, later
// logits by ~1e-2): allowed up to FLIP = 0.25 in at most 10% of the cases (a structural error moves
// logits by O(1)); greedy tokens must be identical in every case.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../engine/common/config.js';
import { randomModelWeights } from '../../engine/common/random-model.js';
import { argmax } from '../../engine/common/reference.js';
import { createEngine } from '../../engine/node/engine.js';
import { NativeCpuModel } from '../../engine/node/native/cpu-model.js';
import { VULKAN_SCHEMES, VulkanModel } from '../../engine/node/vulkan/vulkan-model.js';
import { BOS, testConfig, writeTempModel } from '../engine/node/helpers.js';
import { maxDiff } from '../reference-compare.js';
import { gpuTest, vulkanMissing } from './vulkan-device.js';

const STRICT = 1e-3;
const FLIP = 0.25;
const STEPS = 8;

const gpu = gpuTest;

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64, relu2glu, tied, GQA 4/2)', testConfig()],
  ['hidden 48 = 12*4, ffn 80 = 20*4, swiglu, untied', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false })],
  ['hidden 40 = 20*2, ffn 24 = 12*2 (rows padded to 64 columns), 1 KV head', testConfig({ hiddenSize: 40, numHeads: 2, numKvHeads: 1, headDim: 20, intermediateSize: 24, numLayers: 1 })],
  // Rows of 5 and 3 uvec4s: more than one per lane where subgroups are 4 wide (SwiftShader).
  ['hidden 320 = 20*16, ffn 192 = 12*16, head_dim 80', testConfig({ hiddenSize: 320, numHeads: 4, numKvHeads: 2, headDim: 80, intermediateSize: 192, numLayers: 1 })],
];

const outcomes: { name: string; strict: boolean }[] = [];

/** Greedy decoding on both backends from the same prompt: the largest logit difference and both token lists. */
function race(vk: VulkanModel, cpu: NativeCpuModel, prompt: number[], steps: number): { diff: number; got: number[]; want: number[] } {
  let ids = prompt;
  let diff = 0;
  const got: number[] = [];
  const want: number[] = [];
  for (let s = 0; s < steps; s++) {
    const a = vk.forward(ids);
    const b = cpu.forward(ids);
    expect(a.length).toBe(b.length);
    diff = Math.max(diff, maxDiff(a, b));
    got.push(argmax(a));
    want.push(argmax(b));
    ids = [want[want.length - 1]];
  }
  return { diff, got, want };
}

describe('vulkan backend', () => {
  gpu('has a Vulkan device (required in CI)', () => {
    expect(vulkanMissing).toBeNull();
  });

  describe.each(SHAPES)('vs the native CPU backend: %s', (_label, config) => {
    const weights = randomModelWeights(config, 7);
    for (const scheme of VULKAN_SCHEMES) {
      gpu(`${scheme}: logits and ${STEPS} greedy tokens`, () => {
        const vk = new VulkanModel(weights, { scheme, kvBits: 16 });
        const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1, lmHead: 'full' });
        try {
          const r = race(vk, cpu, [BOS, 72, 101, 108, 108, 111], STEPS);
          expect(vk.position).toBe(cpu.position);
          expect(r.got).toEqual(r.want);
          expect(r.diff).toBeLessThan(FLIP);
          outcomes.push({ name: `${_label} ${scheme}`, strict: r.diff < STRICT });
        } finally {
          vk.dispose();
        }
      });
    }
  });

  afterAll(() => {
    const loose = outcomes.filter((o) => !o.strict);
    expect(loose.length, `cases beyond ${STRICT}: ${loose.map((o) => o.name).join(', ')}`).toBeLessThanOrEqual(Math.ceil(outcomes.length * 0.1));
  });

  gpu('attends over more positions than one chunk of scores (256) holds: 300, reset() starts over', () => {
    const config = testConfig({ maxPositionEmbeddings: 320, numLayers: 1 });
    const weights = randomModelWeights(config, 11);
    const vk = new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16 });
    const cpu = new NativeCpuModel(weights, { scheme: 'b1.58', kvBits: 16, threads: 1, lmHead: 'full' });
    try {
      const prompt = Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
      const r = race(vk, cpu, prompt, 3);
      expect(r.got).toEqual(r.want);
      expect(r.diff).toBeLessThan(FLIP);
      vk.reset();
      cpu.reset();
      expect(vk.position).toBe(0);
      const again = race(vk, cpu, [BOS, 1, 2], 2);
      expect(again.got).toEqual(again.want);
      expect(() => vk.forward(Array.from({ length: 330 }, () => 1))).toThrow(/context length 320 exceeded/);
      expect(() => vk.forward([config.vocabSize])).toThrow(/outside the vocabulary/);
    } finally {
      vk.dispose();
    }
    expect(() => vk.forward([1])).toThrow(/disposed/);
  });

  // Attention over ranges of positions merged by the next dispatch; with 5 splits and a short
  // context some ranges are empty.
  gpu('splits attention over ranges of positions (5 per head), empty ones included', () => {
    const weights = randomModelWeights(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80 }), 13);
    for (const scheme of ['b1.58', 'v2-a4'] as const) {
      const vk = new VulkanModel(weights, { scheme, kvBits: 16, attentionSplits: 5 });
      const cpu = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1, lmHead: 'full' });
      try {
        const r = race(vk, cpu, [BOS, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 6);
        expect(r.got).toEqual(r.want);
        expect(r.diff).toBeLessThan(FLIP);
        outcomes.push({ name: `splits ${scheme}`, strict: r.diff < STRICT });
      } finally {
        vk.dispose();
      }
    }
  });

  // Several rows per subgroup in the GEMV; row counts (80, 40, 48) that leave a partial last group.
  gpu('GEMV with 2 and 4 rows per subgroup', () => {
    const weights = randomModelWeights(SHAPES[2][1], 17);
    for (const gemvRows of [2, 4]) {
      const vk = new VulkanModel(weights, { scheme: 'v2-a8', kvBits: 16, gemvRows });
      const cpu = new NativeCpuModel(weights, { scheme: 'v2-a8', kvBits: 16, threads: 1, lmHead: 'full' });
      try {
        const r = race(vk, cpu, [BOS, 5, 6, 7], 4);
        expect(r.got).toEqual(r.want);
        expect(r.diff).toBeLessThan(FLIP);
        outcomes.push({ name: `gemvRows ${gemvRows}`, strict: r.diff < STRICT });
      } finally {
        vk.dispose();
      }
    }
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, gemvRows: 3 })).toThrow(/gemvRows must be 1, 2 or 4/);
  });

  // Prompt tokens run a command buffer without the LM head; with profile on, only full steps have
  // per-dispatch timestamps (reading the others' would wait forever).
  gpu('gpuTimes: prompt steps without the LM head, per-kernel times of full steps (profile)', () => {
    const weights = randomModelWeights(testConfig(), 19);
    const vk = new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, profile: true });
    try {
      vk.forward([BOS, 5, 6, 7, 8]);
      vk.forward([9]);
      const t = vk.gpuTimes();
      expect(t.steps).toBe(6);
      expect(t.submitWaitMs).toBeGreaterThan(0);
      expect(t.readbackMs).toBeGreaterThan(0);
      if (t.totalMs > 0) {
        expect(t.kernelsMs.lm_head).toBeGreaterThan(0);
        expect(t.kernelsMs['gemv.qkv']).toBeGreaterThan(0);
      }
    } finally {
      vk.dispose();
    }
  });

  gpu('runs as the engine device vulkan: the same greedy text as the native CPU engine', async () => {
    const model = await writeTempModel(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, headDim: 12, intermediateSize: 80 }), 3);
    try {
      const sampling = { maxTokens: 8, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
      const vk = await createEngine(model.dir, { scheme: 'v2-a4', kvBits: 16, device: 'vulkan', taps: false });
      const cpu = await createEngine(model.dir, { scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: false }, { cpuBackend: 'native', threads: 1 });
      try {
        expect(vk.info.device).toBe('vulkan');
        expect(vk.info.deviceNote).toMatch(/^vulkan: /);
        const a = await vk.generateFromIds([BOS, 72, 105], sampling, undefined, undefined, { ignoreEos: true });
        const b = await cpu.generateFromIds([BOS, 72, 105], sampling, undefined, undefined, { ignoreEos: true });
        expect(a.tokenIds).toEqual(b.tokenIds);
        expect(a.tokenIds.length).toBe(8);
      } finally {
        await vk.close();
        await cpu.close();
      }
    } finally {
      await model.cleanup();
    }
  });
});

describe('vulkan backend: refusals and errors', () => {
  const weights = randomModelWeights(testConfig(), 2);
  const env = { ...process.env };
  afterEach(() => {
    for (const k of ['BITLENS_VULKAN_LIBRARY', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES']) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
  });

  it('refuses the schemes, KV widths and options it does not run, naming them', async () => {
    expect(() => new VulkanModel(weights, { scheme: 'fp', kvBits: 16 })).toThrow(/vulkan device does not support scheme fp/);
    expect(() => new VulkanModel(weights, { scheme: 'fp', kvBits: 16 })).toThrow(/scheme fp \(it runs b1\.58, a4\.8, v2-a8, v2-a4\)/);
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 4 })).toThrow(/4-bit KV cache/);
    expect(() => new VulkanModel(weights, { scheme: 'fp', kvBits: 8, taps: true })).toThrow(/does not support scheme fp .*, a 8-bit KV cache [^,]*$/);
    new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16, taps: true }).dispose(); // taps run (vulkan-taps.test.ts)
    const model = await writeTempModel(testConfig(), 4);
    try {
      await expect(createEngine(model.dir, { scheme: 'fp', kvBits: 16, device: 'vulkan', taps: false })).rejects.toThrow(/vulkan device does not support scheme fp/);
      await expect(createEngine(model.dir, { scheme: 'b1.58', kvBits: 8, device: 'vulkan', taps: true })).rejects.toThrow(/vulkan device does not support a 8-bit KV cache/);
    } finally {
      await model.cleanup();
    }
  });

  it('says so when the Vulkan loader is missing, and the engine falls back to the CPU with the reason', async () => {
    process.env.BITLENS_VULKAN_LIBRARY = '/nonexistent/libvulkan.so.1';
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16 })).toThrow(/no Vulkan loader \(\/nonexistent\/libvulkan\.so\.1/);
    const model = await writeTempModel(testConfig(), 5);
    try {
      const engine = await createEngine(model.dir, { scheme: 'b1.58', kvBits: 16, device: 'vulkan', taps: false }, { cpuBackend: 'native' });
      try {
        expect(engine.info.device).toBe('cpu');
        expect(engine.info.deviceNote).toMatch(/vulkan could not start \(no Vulkan loader .*\); using cpu/);
      } finally {
        await engine.close();
      }
    } finally {
      await model.cleanup();
    }
  });

  gpu('auto runs on Vulkan only on a hardware GPU, and only for runs it supports (taps on or off alike)', async () => {
    const model = await writeTempModel(testConfig(), 6);
    try {
      const open = (run: { scheme: 'b1.58' | 'fp'; taps: boolean }) => createEngine(model.dir, { ...run, kvBits: 16, device: 'auto' }, { cpuBackend: 'native' });
      const type = new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16 });
      const software = type.device.type === 'cpu';
      type.dispose();
      for (const taps of [false, true]) {
        const auto = await open({ scheme: 'b1.58', taps });
        try {
          if (software) {
            expect(auto.info.device).not.toBe('vulkan');
            expect(auto.info.deviceNote).toMatch(/vulkan not used: .* \(cpu\) is a CPU implementation/);
          } else {
            expect(auto.info.device).toBe('vulkan');
            expect(auto.info.deviceNote).toMatch(/^auto picked vulkan: /);
          }
        } finally {
          await auto.close();
        }
      }
      for (const run of [{ scheme: 'fp' as const, taps: false }, { scheme: 'fp' as const, taps: true }]) {
        const e = await open(run);
        try {
          expect(e.info.device).not.toBe('vulkan');
          expect(e.info.deviceNote ?? '').not.toMatch(/vulkan/);
        } finally {
          await e.close();
        }
      }
    } finally {
      await model.cleanup();
    }
  });

  gpu('says so when the loader finds no Vulkan driver', () => {
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';
    process.env.VK_DRIVER_FILES = '/nonexistent/icd.json';
    expect(() => new VulkanModel(weights, { scheme: 'b1.58', kvBits: 16 })).toThrow(/no Vulkan device/);
  });
});
