import { describe, expect, it } from 'vitest';
import { quantInt4Absmean } from '../../engine/common/quant.js';
import { cachedVectorStats, vectorStats } from '../../renderer/src/data/siteStats.js';
import { median, moments, sqnrDb } from '../../renderer/src/data/stats.js';

/** Deterministic standard normal samples (Box-Muller on a small LCG). */
function gaussian(n: number, seed = 1): Float32Array {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('moments', () => {
  it('gives exact values on a small vector', () => {
    const m = moments([1, -1, 1, -1]);
    expect(m).toMatchObject({ absmax: 1, absmean: 1, mean: 0, std: 1, kurtosis: 1 });
    // mean 1, deviations (-1, -1, -1, 3): m2 = 3, m4 = 21, kurtosis 21 / 9.
    expect(moments([0, 0, 0, 4]).kurtosis).toBeCloseTo(7 / 3, 12);
  });
  it('is about 3 for a Gaussian and far higher with one outlier channel', () => {
    const x = gaussian(20000);
    expect(moments(x).kurtosis).toBeGreaterThan(2.8);
    expect(moments(x).kurtosis).toBeLessThan(3.2);
    const y = gaussian(1024);
    y[7] = 200;
    expect(moments(y).kurtosis).toBeGreaterThan(100);
  });
  it('handles empty and constant vectors', () => {
    expect(moments([]).kurtosis).toBe(0);
    expect(moments([2, 2, 2]).kurtosis).toBe(0);
  });
});

describe('sqnrDb', () => {
  it('is 10 log10(signal/noise)', () => {
    expect(sqnrDb([3, 4], [3, 4])).toBe(Infinity);
    expect(sqnrDb([1, 0], [0.9, 0])).toBeCloseTo(20, 10);
    expect(sqnrDb([0, 0], [1, 0])).toBe(-Infinity);
    expect(() => sqnrDb([1], [1, 2])).toThrow(/length/);
  });
});

describe('vectorStats', () => {
  it('INT8 absmax is near the 6 dB/bit rule on a Gaussian and never clips', () => {
    const s = vectorStats(gaussian(4096));
    expect(s.int8.clipped).toBe(0);
    expect(s.int8.sqnrDb).toBeGreaterThan(30);
    expect(s.int8.sqnrDb).toBeLessThan(45);
    expect(s.int8.scale).toBeCloseTo(s.absmax / 127, 12);
  });

  it('INT4 absmean clips the Gaussian tails, and an outlier ruins its SQNR', () => {
    const x = gaussian(4096);
    const s = vectorStats(x);
    // Clip at 7.5 * mean|x| / sqrt(7) = 7.5 * 0.798 / 2.646 ~ 2.26 sigma: about 2.4% of a Gaussian.
    expect(s.int4.clipped).toBeGreaterThan(0.01);
    expect(s.int4.clipped).toBeLessThan(0.04);
    expect(s.int4.scale).toBeCloseTo(quantInt4Absmean(x).scale, 12);
    const clean = s.int4.sqnrDb;
    expect(clean).toBeGreaterThan(10);
    x[3] = 300;
    expect(vectorStats(x).int4.sqnrDb).toBeLessThan(clean - 10);
  });

  it('counts exact zeros of the quantized codes', () => {
    const s = vectorStats(Float32Array.of(0, 0, 0, 0.001, 1, -1, 1, -1));
    expect(s.int8.zeros).toBe(0.5);
  });

  it('memoises on vector identity', () => {
    const x = gaussian(64);
    expect(cachedVectorStats(x)).toBe(cachedVectorStats(x));
    expect(cachedVectorStats(Float32Array.from(x))).not.toBe(cachedVectorStats(x));
  });
});

describe('median', () => {
  it('handles odd, even and empty inputs', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
