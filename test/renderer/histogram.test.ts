import { describe, expect, it } from 'vitest';
import { binValues, logCount, sharedRange } from '../../renderer/src/data/histogram.js';

describe('binValues', () => {
  it('puts each value in its bin, hi in the last bin, and counts out-of-range values apart', () => {
    const h = binValues([-1, -0.5, -0.01, 0, 0.49, 0.5, 1, 1.5, -2, NaN], -1, 1, 4);
    expect(Array.from(h.counts)).toEqual([1, 2, 2, 2]);
    expect(h.under).toBe(1);
    expect(h.over).toBe(1);
    expect(h.total).toBe(10);
  });

  it('rejects an empty range or a bad bin count with a message naming it', () => {
    expect(() => binValues([1], 1, 1, 4)).toThrow(/lo < hi/);
    expect(() => binValues([1], 0, 1, 0)).toThrow(/bins/);
    expect(() => binValues([1], 0, 1, 2.5)).toThrow(/bins/);
  });

  it('conserves the count of a large random vector', () => {
    const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 3);
    const h = binValues(x, -2, 2, 64);
    const inBins = h.counts.reduce((a, b) => a + b, 0);
    expect(inBins + h.under + h.over).toBe(5000);
    expect(h.under).toBeGreaterThan(0);
  });
});

describe('sharedRange / logCount', () => {
  it('covers every vector given and ignores missing ones', () => {
    expect(sharedRange([Float32Array.of(0.5, -3), undefined, [2]])).toBe(3);
    expect(sharedRange([new Float32Array(4)])).toBe(1);
  });
  it('is 0 for empty bins and log10 above', () => {
    expect(logCount(0)).toBe(0);
    expect(logCount(99)).toBeCloseTo(2, 12);
  });
});
