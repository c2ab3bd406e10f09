// engine/common/sampling.ts: greedy, temperature, top-k, top-p, repetition penalty, seeded PRNG.
import { describe, expect, it } from 'vitest';
import type { SamplingOptions } from '../../../engine/common/api.js';
import { applyRepetitionPenalty, argmax, greedyToken, sampleToken, seededRandom, validateSampling } from '../../../engine/common/sampling.js';

const base: SamplingOptions = { maxTokens: 8, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
const logits = Float32Array.of(1, 3, 2.5, -1, 3);

function histogram(s: SamplingOptions, n = 4000, seed = 1): number[] {
  const rnd = seededRandom(seed);
  const h = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) h[sampleToken(logits, s, [], rnd)]++;
  return h;
}

describe('sampling', () => {
  it('seeded PRNG is deterministic and uniform-ish', () => {
    const a = seededRandom(9);
    const b = seededRandom(9);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.reduce((p, q) => p + q, 0) / 1000).toBeCloseTo(0.5, 1);
    expect(seededRandom(10)()).not.toBe(seededRandom(9)());
  });

  it('temperature 0 is argmax with ties to the lowest id', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { ...base, temperature: 0 }, [], () => 0.99)).toBe(1);
  });

  it('greedy choice without the copy equals the argmax of the penalised logits', () => {
    const rnd = seededRandom(3);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 40);
      // few distinct values, so ties and penalised ties are common
      const x = Float32Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 8) / 2);
      const context = Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * (n + 4)) - 2);
      for (const penalty of [1, 1.3, 0.7, 2]) {
        expect(greedyToken(x, context, penalty), `n ${n} context ${context} penalty ${penalty}`).toBe(argmax(applyRepetitionPenalty(x, context, penalty)));
      }
    }
    expect(greedyToken(Float32Array.of(3, 1, 2.9), [0], 1.2)).toBe(2);
    expect(greedyToken(Float32Array.of(3, 1, 2.9), [0], 1)).toBe(0);
  });

  it('top-k keeps the k most likely, top-p the smallest nucleus', () => {
    expect(histogram({ ...base, topK: 2 }).filter((c, i) => c > 0 && i !== 1 && i !== 4)).toEqual([]);
    const p = histogram({ ...base, topK: 1 });
    expect(p[1]).toBe(4000);
    // softmax(1, 3, 2.5, -1, 3): ids 1 and 4 each ~0.38, id 2 ~0.23: top-p 0.5 keeps {1, 4}.
    const h = histogram({ ...base, topP: 0.5 });
    expect(h[0] + h[2] + h[3]).toBe(0);
    expect(h[1]).toBeGreaterThan(1700);
    expect(h[4]).toBeGreaterThan(1700);
  });

  it('temperature sharpens or flattens the distribution as expected', () => {
    const cold = histogram({ ...base, temperature: 0.2 });
    const hot = histogram({ ...base, temperature: 5 });
    expect(cold[3]).toBe(0);
    expect(hot[3]).toBeGreaterThan(200);
    // softmax at T = 1: p(0) = e^1 / sum ~ 0.064.
    const h = histogram(base, 20000);
    expect(h[0] / 20000).toBeCloseTo(Math.E / (Math.E + 2 * Math.E ** 3 + Math.E ** 2.5 + Math.E ** -1), 2);
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    expect(Array.from(applyRepetitionPenalty(logits, [1, 3, 3], 2))).toEqual([1, 1.5, 2.5, -2, 3]);
    expect(sampleToken(logits, { ...base, temperature: 0, repetitionPenalty: 2 }, [1], () => 0)).toBe(4);
  });

  it('same seed, same samples', () => {
    expect(histogram(base, 50, 3)).toEqual(histogram(base, 50, 3));
  });

  it('rejects invalid options naming the field', () => {
    expect(() => validateSampling({ ...base, temperature: -1 })).toThrow(/temperature/);
    expect(() => validateSampling({ ...base, topK: 1.5 })).toThrow(/topK/);
    expect(() => validateSampling({ ...base, topP: 1.5 })).toThrow(/topP/);
    expect(() => validateSampling({ ...base, repetitionPenalty: 0 })).toThrow(/repetitionPenalty/);
    expect(() => validateSampling({ ...base, seed: 0.5 })).toThrow(/seed/);
    expect(() => validateSampling({ ...base, stop: [''] })).toThrow(/stop/);
    expect(() => validateSampling(base)).not.toThrow();
  });
});
