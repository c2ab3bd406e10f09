import { describe, expect, it } from 'vitest';
import {
  QUANT_EPS, dequantize, quantInt4Absmean, quantInt8Absmax, quantInt8Top50, quantKv, quantizeSite, roundHalfEven, topKMask,
} from '../../../engine/common/quant.js';
import { SCHEMES, schemeUsesHadamard, siteQuantizer } from '../../../engine/common/scheme.js';

const eps = QUANT_EPS;

describe('roundHalfEven', () => {
  it('rounds ties to even, both signs, and never returns -0', () => {
    const cases: [number, number][] = [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [-3.5, -4],
      [0.49999999999999994, 0], [2.5000000000000004, 3], [-2.4999999999999996, -2], [1e20, 1e20], [-7.6, -8],
    ];
    for (const [x, r] of cases) expect(Object.is(roundHalfEven(x), r), `round(${x})`).toBe(true);
    expect(Object.is(roundHalfEven(-0.4), 0)).toBe(true);
  });
});

describe('INT8 absmax', () => {
  it('uses q = RoundClip(127 x / (max|x| + eps)) and scale max|x| / 127', () => {
    const x = Float64Array.of(1, -0.5, 0.25, 0);
    const { q, scale } = quantInt8Absmax(x);
    // 127/1.00001 = 126.9987 -> 127; 127*-0.5/1.00001 = -63.4994 -> -63; 127*0.25/1.00001 = 31.7497 -> 32
    expect([...q]).toEqual([127, -63, 32, 0]);
    expect(scale).toBe(1 / 127);
  });

  it('rounds exact ties to even (g chosen so 127 x / (g + eps) hits k + 0.5)', () => {
    const g = 127 - eps; // g + eps = 127 exactly in float64? close enough: check the computed value
    const x = Float64Array.of(g, 0.5, 1.5, -2.5, -3.5);
    const t = [...x].map((v) => (127 * v) / (g + eps));
    expect(t.slice(1)).toEqual([0.5, 1.5, -2.5, -3.5]);
    expect([...quantInt8Absmax(x).q]).toEqual([127, 0, 2, -2, -4]);
  });

  it('all-zero rows give zeros and scale 0; dequantize inverts up to half a step', () => {
    expect(quantInt8Absmax(new Float32Array(5))).toEqual({ q: new Int8Array(5), scale: 0 });
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i % 7));
    const r = quantInt8Absmax(x);
    dequantize(r).forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThanOrEqual(r.scale / 2 + 1e-6));
  });

  it('stays within [-127, 127]: with absmax scaling -128 is never produced and clipping never triggers', () => {
    const { q } = quantInt8Absmax(Float64Array.of(-1e-30, 1e-30, 5e-31));
    expect([...q]).toEqual([0, 0, 0]); // tiny rows: eps dominates
    const big = quantInt8Absmax(Float64Array.of(-3e5, 3e5, 1.5e5));
    expect([...big.q]).toEqual([-127, 127, 63]); // 63.49999999998: eps pulls it below the tie
  });
});

describe('INT4 absmean', () => {
  it('uses q = RoundClip(sqrt(7) x / (mean|x| + eps), -8, 7), clipping outliers', () => {
    const x = Float64Array.of(10, -10, 0.5, -0.5, 0, 0, 0, 0); // mean|x| = 2.625
    const { q, scale } = quantInt4Absmean(x);
    const s = Math.sqrt(7);
    expect([...q]).toEqual([7, -8, 1, -1, 0, 0, 0, 0]); // 0.5 * 2.6458 / 2.62501 = 0.504 -> 1
    expect(scale).toBeCloseTo(2.625 / s, 15);
  });

  it('rounds exact ties to even (rows found by search so sqrt(7) x / (mean|x| + eps) is exactly k + 0.5)', () => {
    const s = Math.sqrt(7);
    const cases: [number, number, number, number][] = [
      // [row max, probe, exact tie, expected code]
      [1, 0.02419625211541687, 0.5, 0], [1, 0.07627983321151702, 1.5, 2], [1, 0.13394399416726543, 2.5, 2],
      [1, -0.02419625211541687, -0.5, 0], [1, -0.07627983321151702, -1.5, -2], [1, -0.13394399416726543, -2.5, -2],
      [3, 0.5943775481637691, 3.5, 4], [3, -0.5943775481637691, -3.5, -4],
    ];
    for (const [big, probe, tie, code] of cases) {
      const x = Float64Array.of(big, probe, 0, 0, 0, 0, 0, 0);
      const b = x.reduce((a, v) => a + Math.abs(v), 0) / x.length;
      expect((s * probe) / (b + eps)).toBe(tie); // the row really sits on the tie
      const { q } = quantInt4Absmean(x);
      expect(q[1], `tie ${tie}`).toBe(code);
      expect(q[0]).toBe(7); // and the outlier clips
    }
  });

  it('clips at -8 and 7 and handles zero rows', () => {
    const x = Float64Array.of(100, -100, 0, 0, 0, 0, 0, 0, 0, 0);
    expect([...quantInt4Absmean(x).q].slice(0, 2)).toEqual([7, -8]);
    expect(quantInt4Absmean(new Float64Array(3))).toEqual({ q: new Int8Array(3), scale: 0 });
  });
});

describe('top-K mask and a4.8 W_o input', () => {
  it('keeps the k largest |x| with ties toward the lower channel', () => {
    expect([...topKMask(Float64Array.of(1, -3, 2, 3, -2, 0), 3)]).toEqual([0, 1, 1, 1, 0, 0]);
    expect([...topKMask(Float64Array.of(1, 1, 1, 1), 2)]).toEqual([1, 1, 0, 0]);
    expect([...topKMask(Float64Array.of(0, -1, 1, 0), 1)]).toEqual([0, 1, 0, 0]);
    expect([...topKMask(new Float64Array(4), 0)]).toEqual([0, 0, 0, 0]);
  });

  it('quantizes with the whole-row absmax, then zeroes the smaller half', () => {
    const x = Float64Array.of(0.1, -1, 0.5, 0.2, -0.05, 0.3);
    const full = quantInt8Absmax(x);
    const r = quantInt8Top50(x);
    expect(r.scale).toBe(full.scale);
    expect([...r.q]).toEqual([0, full.q[1], full.q[2], 0, 0, full.q[5]]);
  });
});

describe('KV quantizer', () => {
  it('is symmetric absmax with Q = 2^(bits-1) - 1', () => {
    const x = Float64Array.of(1, -1, 0.5, -0.25, 0.7);
    expect([...quantKv(x, 8).q]).toEqual([127, -127, 63, -32, 89]); // 63.4994 -> 63, -31.7497 -> -32, 88.899 -> 89
    expect([...quantKv(x, 4).q]).toEqual([7, -7, 3, -2, 5]); // 3.49996 -> 3, -1.74998 -> -2, 4.89995 -> 5
    expect([...quantKv(x, 3).q]).toEqual([3, -3, 1, -1, 2]); // 1.49998 -> 1, -0.74999 -> -1, 2.09998 -> 2
    expect(quantKv(x, 3).scale).toBe(1 / 3);
  });

  it('rounds KV ties to even and refuses bad bit widths', () => {
    const g = 3 - eps;
    const x = Float64Array.of(g, 0.5, -1.5, 2.5);
    expect([...x].map((v) => (3 * v) / (g + eps)).slice(1)).toEqual([0.5, -1.5, 2.5]);
    expect([...quantKv(x, 3).q]).toEqual([3, 0, -2, 2]);
    expect(() => quantKv(x, 16)).toThrow(/KV bits/);
  });
});

describe('schemes', () => {
  it('map sites to quantizers as in docs/model-format.md', () => {
    expect(SCHEMES.map((s) => [siteQuantizer(s, 'qkv'), siteQuantizer(s, 'o'), siteQuantizer(s, 'gateup'), siteQuantizer(s, 'down'), schemeUsesHadamard(s)])).toEqual([
      ['none', 'none', 'none', 'none', false],
      ['int8', 'int8', 'int8', 'int8', false],
      ['int4', 'int8-top50', 'int4', 'int8', false],
      ['int8', 'int8', 'int8', 'int8', true],
      ['int4', 'int4', 'int4', 'int4', true],
    ]);
    expect(quantizeSite('none', Float64Array.of(1))).toBeNull();
    expect(quantizeSite('int8-top50', Float64Array.of(1, 0.5)).q).toEqual(Int8Array.of(127, 0));
  });
});
