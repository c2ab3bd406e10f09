// NativeCpuModel (the native CPU decode backend) against the float64 ReferenceModel for every
// scheme, KV cache width, shape and kernel path on this machine, and against the ORT engine.
//
// Tolerance. The native model computes like the reference in float64 (norms, quantizer inputs,
// Hadamard) with exact integer products; attention and the LM head run in float32, so logits differ
// by ~1e-6. Strict bound 1e-4. A quantizer input within rounding error of a .5 boundary may round the
// other way (one code moves by 1, later logits by ~1e-2): allowed at most 0.25 in at most 10% of the
// cases (a structural error moves logits by O(1)); greedy tokens must be identical in every case.
import { afterAll, describe, expect, it } from 'vitest';
import { KV_BITS } from '../../engine/common/api.js';
import type { ModelConfig } from '../../engine/common/config.js';
import { randomModelWeights, tinyConfig } from '../../engine/common/random-model.js';
import { argmax, ReferenceModel } from '../../engine/common/reference.js';
import { SCHEMES } from '../../engine/common/scheme.js';
import { createEngine } from '../../engine/node/engine.js';
import { NativeCpuModel } from '../../engine/node/native/cpu-model.js';
import { BOS, testConfig, writeTempModel } from '../engine/node/helpers.js';
import { isas } from './helpers.js';
import { maxDiff, maxTapDiff } from '../reference-compare.js';

const STRICT = 1e-4;
const FLIP = 0.25;
const STEPS = 12;

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64, relu2glu, tied, GQA 4/2)', testConfig()],
  ['hidden 48 = 12*4, ffn 80 = 20*4, swiglu, untied', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false })],
  ['hidden 40 = 20*2, ffn 24 = 12*2, 1 KV head', testConfig({ hiddenSize: 40, numHeads: 2, numKvHeads: 1, intermediateSize: 24, numLayers: 1 })],
];

const outcomes: { name: string; strict: boolean }[] = [];


describe.each(SHAPES)('native model vs reference: %s', (_label, config) => {
  const weights = randomModelWeights(config, 7);
  const paths = isas();
  for (const scheme of SCHEMES) {
    for (const kvBits of KV_BITS) {
      // Every path on the b1.58 and v2-a4 schemes, the best path on the rest (keeps the suite quick).
      const run = scheme === 'b1.58' || scheme === 'v2-a4' ? paths : [paths[paths.length - 1]];
      for (const isa of run) {
        it(`${scheme}, KV ${kvBits} bits, ${isa}: logits, taps and ${STEPS} greedy tokens`, () => {
          const native = new NativeCpuModel(weights, { scheme, kvBits, isa, threads: 2, taps: true });
          const ref = new ReferenceModel(weights, { scheme, kvBits });
          let ids = [BOS, 72, 101, 108, 108, 111];
          let maxLogit = 0;
          let maxTap = 0;
          const got: number[] = [];
          const want: number[] = [];
          for (let s = 0; s < STEPS; s++) {
            const out = native.forward(ids);
            const exp = ref.forward(ids);
            expect(out.length).toBe(config.vocabSize);
            maxLogit = Math.max(maxLogit, maxDiff(out, exp));
            const taps = native.lastTaps;
            expect(taps.length).toBe(config.numLayers);
            maxTap = Math.max(maxTap, maxTapDiff(taps, ref.lastTaps));
            got.push(argmax(out));
            want.push(argmax(exp));
            ids = [want[want.length - 1]];
          }
          expect(native.position).toBe(ref.position);
          expect(got).toEqual(want);
          expect(maxLogit).toBeLessThan(FLIP);
          expect(maxTap).toBeLessThan(FLIP);
          outcomes.push({ name: `${scheme}/${kvBits}/${isa}`, strict: maxLogit < STRICT && maxTap < STRICT });
        });
      }
    }
  }
});

describe('native model', () => {
  afterAll(() => {
    const loose = outcomes.filter((o) => !o.strict);
    expect(loose.length, `cases beyond ${STRICT}: ${loose.map((o) => o.name).join(', ')}`).toBeLessThanOrEqual(Math.ceil(outcomes.length * 0.1));
  });

  it('matches the ORT engine (real CPU session) on every scheme', async () => {
    const model = await writeTempModel(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80 }), 3);
    try {
      for (const scheme of SCHEMES) {
        const engine = await createEngine(model.dir, { scheme, kvBits: 8, device: 'cpu', taps: false }, { cpuBackend: 'ort' });
        const native = new NativeCpuModel(model.weights, { scheme, kvBits: 8, threads: 1 });
        try {
          let ids = [BOS, 1, 2, 3, 200, 17];
          for (let s = 0; s < 6; s++) {
            const a = (await engine.forward(ids, s === 0)).logits;
            const b = native.forward(ids);
            expect(maxDiff(a, b), scheme).toBeLessThan(FLIP);
            expect(argmax(b), scheme).toBe(argmax(a));
            ids = [argmax(a)];
          }
        } finally {
          await engine.close();
        }
      }
    } finally {
      await model.cleanup();
    }
  });

  // Decoding computes only the W_up rows whose relu2 gate is > 0 when at most a third are (else all
  // of W_up): zero rows of W_gate give g = 0, so with 4 of 5 of them zero every decode step takes
  // the indexed-row path of every kernel.
  it('a sparse relu2 gate (the W_up row skip) matches the reference on every kernel path', () => {
    const weights = randomModelWeights(testConfig(), 5);
    for (const l of weights.layers) {
      const rowBytes = l.gate.cols / 4;
      for (let r = 0; r < l.gate.rows; r++) if (r % 5 !== 0) l.gate.packed.fill(0x55, r * rowBytes, (r + 1) * rowBytes);
    }
    for (const isa of isas()) {
      for (const scheme of ['b1.58', 'v2-a4'] as const) {
        const native = new NativeCpuModel(weights, { scheme, kvBits: 16, isa, threads: 2, taps: true });
        const ref = new ReferenceModel(weights, { scheme, kvBits: 16 });
        let ids = [BOS, 72, 101];
        for (let s = 0; s < 6; s++) {
          const out = native.forward(ids);
          const exp = ref.forward(ids);
          expect(maxDiff(out, exp), `${isa} ${scheme} step ${s}`).toBeLessThan(STRICT);
          expect(maxTapDiff(native.lastTaps, ref.lastTaps)).toBeLessThan(STRICT);
          expect(argmax(out)).toBe(argmax(exp));
          ids = [argmax(exp)];
        }
      }
    }
  });

  it('the thread count does not change a bit of the logits (from 4 threads the Hadamard transform is split over the pool)', () => {
    // Paley widths (48 = H_12 (x) H_4, 80 = H_20 (x) H_4): the H_K step is the part that is split.
    const weights = randomModelWeights(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80 }), 4);
    for (const scheme of ['v2-a4', 'v2-a8'] as const) {
      const one = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 1 });
      const four = new NativeCpuModel(weights, { scheme, kvBits: 16, threads: 4 });
      let ids = [BOS, 5, 6, 7];
      for (let s = 0; s < 3; s++) {
        const a = one.forward(ids);
        expect(four.forward(ids), `${scheme} step ${s}`).toEqual(a);
        ids = [argmax(a)];
      }
    }
  });

  it('the SIMD Hadamard paths inside the model (384 = H_12 (x) H_32, 640 = H_20 (x) H_32): the reference, and the same bits on 1, 2 and 4 threads', () => {
    // Below 4 threads v2-a4's W_o and W_down quantizers take their absmean sums from the transform
    // (summed beside the H_K step); from 4 threads the step is split and the quantizer sums itself.
    const weights = randomModelWeights(testConfig({ hiddenSize: 384, numHeads: 4, numKvHeads: 2, intermediateSize: 640, numLayers: 2 }), 6);
    for (const isa of isas()) {
      for (const scheme of ['v2-a4', 'v2-a8'] as const) {
        const models = [1, 2, 4].map((threads) => new NativeCpuModel(weights, { scheme, kvBits: 16, isa, threads }));
        const ref = new ReferenceModel(weights, { scheme, kvBits: 16 });
        let ids = [BOS, 5, 6, 7];
        for (let s = 0; s < 3; s++) {
          const [a, ...rest] = models.map((m) => m.forward(ids));
          for (const b of rest) expect(b, `${isa} ${scheme} step ${s}`).toEqual(a);
          const exp = ref.forward(ids);
          expect(maxDiff(a, exp), `${isa} ${scheme} step ${s}`).toBeLessThan(STRICT);
          expect(argmax(a)).toBe(argmax(exp));
          ids = [argmax(exp)];
        }
      }
    }
  });

  it('reset() empties the cache: the same prompt gives the same logits', () => {
    const weights = randomModelWeights(testConfig(), 2);
    const m = new NativeCpuModel(weights, { scheme: 'v2-a4', kvBits: 4, threads: 2 });
    const a = m.forward([BOS, 5, 6, 7]);
    m.forward([9]);
    m.reset();
    expect(m.position).toBe(0);
    expect(m.forward([BOS, 5, 6, 7])).toEqual(a);
    expect(m.lastTaps).toEqual([]); // taps off
  });

  it('refuses bad input with clear errors', () => {
    const weights = randomModelWeights(tinyConfig({ maxPositionEmbeddings: 8 }), 2);
    const m = new NativeCpuModel(weights, { scheme: 'b1.58', kvBits: 16, threads: 1 });
    expect(() => m.forward([])).toThrow(/at least one token/);
    expect(() => m.forward([64])).toThrow(/token id 64 outside the vocabulary \(64\)/);
    expect(() => m.forward([1.5])).toThrow(/not an integer/);
    expect(() => m.forward(Array(9).fill(1))).toThrow(/context length 8 exceeded: 0 cached \+ 9 new tokens/);
    expect(() => new NativeCpuModel(weights, { scheme: 'b1.58', kvBits: 16, threads: 0 })).toThrow(/threads/);
    expect(() => new NativeCpuModel(weights, { scheme: 'b1.58', kvBits: 16, isa: 'mmx' as 'avx2' })).toThrow(/unknown native kernel path/);
    const bad = randomModelWeights(tinyConfig(), 2);
    bad.layers[1].up.packed[3] = 0xff; // code 3
    expect(() => new NativeCpuModel(bad, { scheme: 'b1.58', kvBits: 16 })).toThrow(/layer 1 up: invalid ternary code 3 at row 0, column 12/);
  });
});

describe('native model engine step', () => {
  it('returns the TapFrame of the last token in float32 (what the inspector reads)', () => {
    const weights = randomModelWeights(testConfig(), 4);
    const m = new NativeCpuModel(weights, { scheme: 'v2-a8', kvBits: 16, threads: 1, taps: true });
    const ref = new ReferenceModel(weights, { scheme: 'v2-a8', kvBits: 16 });
    const out = m.step([BOS, 3, 4]);
    ref.forward([BOS, 3, 4]);
    expect(out.taps?.position).toBe(2);
    expect(out.taps?.tokenId).toBe(4);
    expect(out.taps?.layers.length).toBe(2);
    const l0 = out.taps!.layers[0];
    expect(l0.down).toBeInstanceOf(Float32Array);
    expect(maxDiff(l0.downPreHadamard!, ref.lastTaps[0].downPreHadamard!)).toBeLessThan(1e-5);
    expect(new NativeCpuModel(weights, { scheme: 'v2-a8', kvBits: 16, threads: 1 }).step([BOS]).taps).toBeUndefined();
  });
});
