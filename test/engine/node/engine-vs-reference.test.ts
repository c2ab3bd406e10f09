// ORT engine (cpuBackend 'ort': real CPU sessions on tiny random models written to disk) against the float64
// ReferenceModel, for every scheme, KV cache width and several shapes.
//
// Tolerance. ORT computes in float32 (~1e-7 relative per op); the reference in float64. Observed
// differences are ~3e-6 on logits with std ~2, so the strict bound is 1e-4. The one exception is
// inherent: a quantizer input within float32 rounding error of a .5 boundary rounds to the
// neighbouring integer in one of the two, one code moves by 1 and, through the KV cache, every later
// logit moves by ~1e-2. Such a case is allowed at most 0.25 (a structural error - wrong scale, order
// of operations, RoPE, mask, Hadamard, packing - moves logits by O(1)) and may happen in at most
// 10% of the cases; greedy tokens must be identical over 32 steps in every case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_BITS } from '../../../engine/common/api.js';
import type { ModelConfig } from '../../../engine/common/config.js';
import { argmax, ReferenceModel } from '../../../engine/common/reference.js';
import { SCHEMES } from '../../../engine/common/scheme.js';
import { createEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';
import { maxTapDiff } from '../../reference-compare.js';

const STRICT = 1e-4;
const FLIP = 0.25;
const STEPS = 32;

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64, relu2glu, tied, GQA 4/2)', testConfig()],
  ['hidden 48 = 12*4, ffn 80 = 20*4, swiglu, untied', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false })],
  ['hidden 40 = 20*2, ffn 24 = 12*2 (padded 2-bit blocks), 1 KV head', testConfig({ hiddenSize: 40, numHeads: 2, numKvHeads: 1, intermediateSize: 24, numLayers: 1 })],
];

const outcomes: { name: string; strict: boolean }[] = [];

// CPU sessions use the int8 kernels with the sentinel layout by default (graph/ops.ts); GPU backends
// use the float32 path and the GPU graph variant (Floor-based rounding, KV dequantized on write), checked
// here on the CPU for the first shape.
const MODES = [
  ['default (int8-exact on cpu)', {}],
  ['GPU graph: fp32 matmul, Floor rounding, KV dequantized on write', { matmul: 'fp32', graphTarget: 'gpu' }],
] as const;

describe.each(SHAPES.flatMap(([label, config], i) => MODES.filter((_, m) => m === 0 || i === 0).map(([mode, matmul]) => [`${label}, ${mode}`, config, matmul] as const)))('engine vs reference: %s', (_label, config, matmul) => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(config, 7);
  });
  afterAll(() => model.cleanup());

  for (const scheme of SCHEMES) {
    for (const kvBits of KV_BITS) {
      it(`${scheme}, KV ${kvBits} bits: logits, taps and 32 greedy tokens`, async () => {
        const engine = await createEngine(model.dir, { scheme, kvBits, device: 'cpu', taps: true }, { ...matmul, cpuBackend: 'ort' });
        const ref = new ReferenceModel(model.weights, { scheme, kvBits });
        let ids = [BOS, 72, 101, 108, 108, 111]; // BOS "Hello"
        let maxLogit = 0;
        let maxTap = 0;
        const ortTokens: number[] = [];
        const refTokens: number[] = [];
        for (let s = 0; s < STEPS; s++) {
          const out = await engine.forward(ids, s === 0);
          const want = ref.forward(ids);
          expect(out.logits.length).toBe(config.vocabSize);
          for (let i = 0; i < want.length; i++) maxLogit = Math.max(maxLogit, Math.abs(want[i] - out.logits[i]));
          const taps = out.taps!;
          expect(taps.position).toBe(ref.position - 1);
          expect(taps.tokenId).toBe(ids[ids.length - 1]);
          for (const layer of taps.layers) for (const v of Object.values(layer)) expect(v).toBeInstanceOf(Float32Array);
          maxTap = Math.max(maxTap, maxTapDiff(taps.layers, ref.lastTaps));
          ortTokens.push(argmax(out.logits));
          refTokens.push(argmax(want));
          ids = [refTokens[s]];
        }
        await engine.close();
        expect(ortTokens).toEqual(refTokens);
        expect(maxLogit).toBeLessThan(FLIP);
        expect(maxTap).toBeLessThan(FLIP);
        outcomes.push({ name: `${config.hiddenSize}/${scheme}/${kvBits}/${'graphTarget' in matmul ? 'gpu' : 'cpu'}`, strict: maxLogit < STRICT && maxTap < STRICT });
      });
    }
  }
});

describe('engine vs reference: summary', () => {
  it('at most 10% of the cases show a float32 rounding-boundary flip', () => {
    expect(outcomes.length).toBe((SHAPES.length + 1) * SCHEMES.length * KV_BITS.length);
    const flipped = outcomes.filter((o) => !o.strict).map((o) => o.name);
    expect(flipped.length, `cases beyond ${STRICT}: ${flipped.join(', ')}`).toBeLessThanOrEqual(Math.floor(outcomes.length / 10));
  });
});
