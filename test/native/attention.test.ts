// The native float32 attention (attendF32 over chunks of 64 positions, merged in float64) against the
// float64 ReferenceModel at contexts the model tests do not reach: several chunks with a partial
// last one, position counts that are not a multiple of the 8-position score blocks, GQA groups of
// 3 and 5 (the 4-head value tiles plus a remainder), head widths on the SIMD paths (multiples of 16
// and 32) and off them (12: the portable fallback), prefill (one job per token and KV head) and
// decoding (chunks split over the threads).
//
// Tolerance 1e-4 on the logits, as model.test.ts's strict bound: the fp scheme has no quantizer (so
// no rounding flips), which leaves float32 attention (relative error ~1e-6: float32 sums over a few
// hundred positions, exp within 1.2e-7) and the float32 LM head as the only differences.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../engine/common/config.js';
import { randomModelWeights } from '../../engine/common/random-model.js';
import { argmax, ReferenceModel } from '../../engine/common/reference.js';
import { NativeCpuModel } from '../../engine/node/native/cpu-model.js';
import { BOS, testConfig } from '../engine/node/helpers.js';
import { maxDiff } from '../reference-compare.js';
import { isas } from './helpers.js';

const STRICT = 1e-4;
const PROMPT = 150; // chunks of 64, 64 and 22 positions; 150 = 18 * 8 + 6
const prompt = Array.from({ length: PROMPT }, (_, i) => (i === 0 ? BOS : 3 + ((i * 37) % 250)));

const SHAPES: [string, Partial<ModelConfig>][] = [
  ['head dim 32, GQA 4/1', { hiddenSize: 128, numHeads: 4, numKvHeads: 1 }],
  ['head dim 16, GQA 6/2 (groups of 3)', { hiddenSize: 96, numHeads: 6, numKvHeads: 2 }],
  ['head dim 48, GQA 5/1 (a group of 5)', { hiddenSize: 240, numHeads: 5, numKvHeads: 1 }],
  ['head dim 12 (portable fallback), GQA 4/2', { hiddenSize: 48, numHeads: 4, numKvHeads: 2 }],
];

describe.each(SHAPES)('native attention at long context: %s', (_label, shape) => {
  const config = testConfig({ ...shape, numLayers: 1, intermediateSize: 32, maxPositionEmbeddings: 256 });
  const weights = randomModelWeights(config, 5);

  for (const isa of isas()) {
    it(`${isa}: prefill of ${PROMPT} tokens and 3 decoding steps match the float64 reference`, () => {
      const native = new NativeCpuModel(weights, { scheme: 'fp', kvBits: 16, isa, threads: 2 });
      const ref = new ReferenceModel(weights, { scheme: 'fp', kvBits: 16 });
      let ids = prompt;
      for (let s = 0; s < 4; s++) {
        const out = native.forward(ids);
        const want = ref.forward(ids);
        expect(maxDiff(out, want), `step ${s}`).toBeLessThan(STRICT);
        ids = [argmax(want)];
      }
    });
  }

  it('the bits do not depend on the thread count or on how the prompt is split', () => {
    const one = new NativeCpuModel(weights, { scheme: 'fp', kvBits: 16, threads: 1 });
    const three = new NativeCpuModel(weights, { scheme: 'fp', kvBits: 16, threads: 3 });
    const split = new NativeCpuModel(weights, { scheme: 'fp', kvBits: 16, threads: 2 });
    const a = one.forward(prompt);
    expect(three.forward(prompt)).toEqual(a);
    split.forward(prompt.slice(0, 100));
    split.forward(prompt.slice(100, 149));
    expect(split.forward(prompt.slice(149))).toEqual(a);
    const next = [argmax(a)];
    expect(three.forward(next)).toEqual(one.forward(next));
  });
});
