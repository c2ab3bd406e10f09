import { describe, expect, it } from 'vitest';
import { packTernary, ternarize, unpackTernary } from '../../../engine/common/ternary.js';

describe('packed ternary', () => {
  it('follows docs/model-format.md: code w+1, low bits first, [out, in/4]', () => {
    // Row 0: -1 0 +1 -1 | 0 0 0 +1; row 1: +1 +1 +1 +1 | -1 -1 -1 -1.
    const v = Int8Array.of(-1, 0, 1, -1, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1, -1, -1);
    const p = packTernary(v, 2, 8);
    expect([...p]).toEqual([0b00_10_01_00, 0b10_01_01_01, 0b10_10_10_10, 0]);
    expect([...unpackTernary(p, 2, 8)]).toEqual([...v]);
  });

  it('round trips random values', () => {
    const v = Int8Array.from({ length: 12 * 16 }, (_, i) => ((i * 7919) % 3) - 1);
    expect(unpackTernary(packTernary(v, 12, 16), 12, 16)).toEqual(v);
  });

  it('rejects code 3, non-ternary values and bad widths', () => {
    expect(() => unpackTernary(Uint8Array.of(0x55, 0b0111_0101), 1, 8)).toThrow(/code 3 in byte 1 \(row 0, columns 4\.\.7\)/);
    expect(() => packTernary(Int8Array.of(0, 2, 0, 0), 1, 4)).toThrow(/not ternary/);
    expect(() => packTernary(new Int8Array(6), 1, 6)).toThrow(/cols % 4/);
    expect(() => unpackTernary(new Uint8Array(3), 1, 8)).toThrow(/expected 2 packed bytes/);
  });
});

describe('ternarize (absmean)', () => {
  it('uses alpha = mean|W| and RoundClip(W / (alpha + eps), -1, 1)', () => {
    const w = Float64Array.of(0.5, -0.5, 2, -3, 0.1, 0, 0.25, -0.26);
    const { values, alpha } = ternarize(w);
    expect(alpha).toBeCloseTo(6.61 / 8, 15);
    // 0.25/0.826 = 0.30 -> 0, 0.5/0.826 = 0.6 -> 1, large values clip to +-1.
    expect([...values]).toEqual([1, -1, 1, -1, 0, 0, 0, 0]);
  });

  it('rounds an exact half to even (0), both signs', () => {
    // Found by search: alpha = 2.400006 / 3, and 0.400006 / (alpha + 1e-5) is exactly 0.5 in float64.
    for (const h of [0.400006, -0.400006]) {
      const { values, alpha } = ternarize(Float64Array.of(1, -1, h));
      expect(Math.abs(h) / (alpha + 1e-5)).toBe(0.5);
      expect([...values]).toEqual([1, -1, 0]);
    }
  });

  it('handles an all-zero tensor', () => {
    expect(ternarize(new Float32Array(4))).toEqual({ values: new Int8Array(4), alpha: 0 });
  });
});
