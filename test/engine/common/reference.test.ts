import { describe, expect, it } from 'vitest';
import { SCHEMES, type Scheme } from '../../../engine/common/scheme.js';
import { KV_BITS } from '../../../engine/common/api.js';
import { hadamardTransform } from '../../../engine/common/hadamard.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import { ReferenceModel, argmax, greedy, rmsNorm } from '../../../engine/common/reference.js';
import { packTernary } from '../../../engine/common/ternary.js';
import type { ModelWeights } from '../../../engine/common/weights.js';

const config = tinyConfig();
const weights = randomModelWeights(config, 11);
const prompt = [1, 17, 5, 42, 9, 33];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function std(x: Float64Array): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
}

describe('reference forward pass', () => {
  it('with every projection scaled to zero, logits are RMSNorm(embed) * norm · Eᵀ', () => {
    const zero: ModelWeights = { ...weights, embed: weights.embed, layers: weights.layers.map((l) => {
      const z = { ...l };
      for (const p of ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const) z[p] = { ...l[p], alpha: 0 };
      return z;
    }) };
    for (const scheme of ['fp', 'b1.58'] as Scheme[]) {
      const ref = new ReferenceModel(zero, { scheme, kvBits: 16 });
      const logits = ref.forward([3, 7]);
      const d = config.hiddenSize;
      const e = weights.embed;
      const hn = rmsNorm(Float64Array.from(e.subarray(7 * d, 8 * d)), weights.norm, config.rmsNormEps);
      const expected = Array.from({ length: config.vocabSize }, (_, v) => hn.reduce((a, x, i) => a + x * e[v * d + i], 0));
      expect(maxDiff(logits, expected)).toBeLessThan(1e-12);
    }
  });

  it('gives spread-out, finite logits for every scheme, and schemes differ', () => {
    const out = SCHEMES.map((scheme) => new ReferenceModel(weights, { scheme, kvBits: 16 }).forward(prompt));
    for (const l of out) {
      expect(l.every(Number.isFinite)).toBe(true);
      expect(std(l)).toBeGreaterThan(0.5);
    }
    // Quantization perturbs but does not destroy: b1.58 stays near fp, and no two schemes are equal.
    expect(maxDiff(out[0], out[1]) / std(out[0])).toBeLessThan(0.5);
    for (let i = 0; i < out.length; i++) for (let j = i + 1; j < out.length; j++) expect(maxDiff(out[i], out[j])).toBeGreaterThan(1e-9);
  });

  for (const scheme of SCHEMES) {
    it(`${scheme}: incremental decoding equals one full pass (KV 16 and 4)`, () => {
      for (const kvBits of [16, 4] as const) {
        const full = new ReferenceModel(weights, { scheme, kvBits });
        const all = full.forward(prompt);
        const inc = new ReferenceModel(weights, { scheme, kvBits });
        inc.forward(prompt.slice(0, 2));
        inc.forward(prompt.slice(2, 5));
        const last = inc.forward(prompt.slice(5));
        expect(maxDiff(all, last)).toBeLessThan(1e-10);
        expect(inc.position).toBe(prompt.length);
        expect(maxDiff(inc.lastTaps[1].down, full.lastTaps[1].down)).toBeLessThan(1e-10);
        full.reset();
        expect(maxDiff(full.forward(prompt), all)).toBe(0);
      }
    });
  }

  it('KV bits change logits, but the first position is always kept at 8 bits', () => {
    const run = (kvBits: (typeof KV_BITS)[number], ids: number[]) => new ReferenceModel(weights, { scheme: 'b1.58', kvBits }).forward(ids);
    expect(maxDiff(run(3, [1]), run(8, [1]))).toBe(0);
    expect(maxDiff(run(3, [1]), run(16, [1]))).toBeGreaterThan(0);
    expect(maxDiff(run(3, prompt), run(8, prompt))).toBeGreaterThan(0);
    const drift = maxDiff(run(8, prompt), run(16, prompt));
    expect(drift).toBeGreaterThan(0);
    expect(drift).toBeLessThan(maxDiff(run(3, prompt), run(16, prompt)));
  });

  it('attention over one position ignores Q and K; over two it does not', () => {
    const scrambled: ModelWeights = { ...weights, embed: weights.embed, layers: weights.layers.map((l) => ({
      ...l,
      q: { ...l.q, packed: packTernary(new Int8Array(l.q.rows * l.q.cols).fill(1), l.q.rows, l.q.cols) },
    })) };
    const a = new ReferenceModel(weights, { scheme: 'fp', kvBits: 16 });
    const b = new ReferenceModel(scrambled, { scheme: 'fp', kvBits: 16 });
    expect(maxDiff(a.forward([5]), b.forward([5]))).toBe(0);
    expect(maxDiff(a.forward([6]), b.forward([6]))).toBeGreaterThan(1e-6);
  });

  it('taps hold the quantizer inputs; v2 taps are the Hadamard transform of the pre-Hadamard ones', () => {
    const ref = new ReferenceModel(weights, { scheme: 'v2-a4', kvBits: 16 });
    ref.forward(prompt);
    expect(ref.lastTaps).toHaveLength(config.numLayers);
    const t0 = ref.lastTaps[0];
    const d = config.hiddenSize;
    const e = weights.embed;
    const x0 = rmsNorm(Float64Array.from(e.subarray(33 * d, 34 * d)), weights.layers[0].inputNorm, config.rmsNormEps);
    expect(maxDiff(t0.qkv, x0)).toBeLessThan(1e-12);
    for (const [pre, post] of [[t0.oPreHadamard!, t0.o], [t0.downPreHadamard!, t0.down]]) {
      const h = Float64Array.from(pre);
      hadamardTransform(h, h.length);
      expect(maxDiff(h, post)).toBeLessThan(1e-12);
    }
    const plain = new ReferenceModel(weights, { scheme: 'b1.58', kvBits: 16 });
    plain.forward(prompt);
    expect(plain.lastTaps[0].oPreHadamard).toBeUndefined();
    expect(plain.lastTaps[0].down).toHaveLength(config.intermediateSize);
  });

  it('runs v2 schemes on non-power-of-two widths (48 = 12 * 4, FFN 80 = 20 * 4) via the Kronecker Hadamard', () => {
    const c = tinyConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 1, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false });
    const w = randomModelWeights(c, 3);
    for (const scheme of ['v2-a8', 'v2-a4'] as const) {
      const ref = new ReferenceModel(w, { scheme, kvBits: 4 });
      const logits = ref.forward(prompt);
      expect(logits.every(Number.isFinite)).toBe(true);
      expect(std(logits)).toBeGreaterThan(0.5);
      const t = ref.lastTaps[1];
      expect(Math.hypot(...t.down) / Math.hypot(...t.downPreHadamard!)).toBeCloseTo(1, 12);
      expect(maxDiff(t.o, t.oPreHadamard!)).toBeGreaterThan(1e-3);
    }
  });

  it('names an unsupported Hadamard width for v2 schemes only', () => {
    const c = tinyConfig({ hiddenSize: 56, numHeads: 4, numKvHeads: 2, intermediateSize: 64 });
    const w = randomModelWeights(c, 1);
    expect(() => new ReferenceModel(w, { scheme: 'v2-a8', kvBits: 16 })).toThrow(/width 56/);
    expect(new ReferenceModel(w, { scheme: 'a4.8', kvBits: 16 }).forward([1]).every(Number.isFinite)).toBe(true);
  });

  it('refuses bad tokens and a context overflow', () => {
    const ref = new ReferenceModel(weights, { scheme: 'b1.58', kvBits: 16 });
    expect(() => ref.forward([64])).toThrow(/token id 64/);
    expect(() => ref.forward([])).toThrow(/at least one/);
    expect(() => ref.forward(new Array(129).fill(1))).toThrow(/context length 128/);
  });

  it('greedy decoding is deterministic and follows argmax of forward()', () => {
    const ref = new ReferenceModel(weights, { scheme: 'a4.8', kvBits: 8 });
    const ids = greedy(ref, prompt, 8);
    expect(ids).toHaveLength(8);
    expect(greedy(ref, prompt, 8)).toEqual(ids);
    const manual = new ReferenceModel(weights, { scheme: 'a4.8', kvBits: 8 });
    expect(argmax(manual.forward(prompt))).toBe(ids[0]);
    expect(argmax(manual.forward([ids[0]]))).toBe(ids[1]);
    expect(new Set(ids).size).toBeGreaterThan(1);
    expect(argmax([1, 3, 3])).toBe(1);
  });
});
