import { describe, expect, it } from 'vitest';
import { denseHadamard, hadamardPlan, hadamardTransform, paleyHadamard } from '../../../engine/common/hadamard.js';
import { Rng } from '../../../engine/common/random-model.js';

function randomVec(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

function matVec(m: Float64Array, x: Float64Array, transpose = false): Float64Array {
  const n = x.length;
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) y[r] += (transpose ? m[c * n + r] : m[r * n + c]) * x[c];
  return y;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('Hadamard factors', () => {
  for (const K of [2, 4, 12, 20, 24, 40, 44, 108]) {
    it(`order ${K} is a Hadamard matrix (H Hᵀ = K I)`, () => {
      const h = paleyHadamard(K);
      for (let r = 0; r < K; r++) {
        for (let c = 0; c < K; c++) {
          let s = 0;
          for (let l = 0; l < K; l++) s += h[r * K + l] * h[c * K + l];
          if (s !== (r === c ? K : 0)) throw new Error(`H_${K} rows ${r}, ${c}: dot ${s}`);
        }
      }
      expect([...h].every((v) => v === 1 || v === -1)).toBe(true);
    });
  }

  it('Paley I has its documented normal form, and 40 = H_2 ⊗ H_20', () => {
    const h12 = paleyHadamard(12);
    expect([...h12.subarray(0, 12)]).toEqual(new Array(12).fill(1));
    expect(Array.from({ length: 11 }, (_, r) => h12[(r + 1) * 12])).toEqual(new Array(11).fill(-1));
    // Row 1 = [-1, 1 + χ(0), χ(-1), ..., χ(-10)] mod 11; squares mod 11 are {1, 3, 4, 5, 9}.
    const chi = (a: number) => (a % 11 === 0 ? 0 : [1, 3, 4, 5, 9].includes(((a % 11) + 11) % 11) ? 1 : -1);
    expect([...h12.subarray(12, 24)]).toEqual([-1, 1, ...Array.from({ length: 10 }, (_, j) => chi(-(j + 1)))]);
    const h20 = paleyHadamard(20);
    const h40 = paleyHadamard(40);
    expect(h40[0 * 40 + 25]).toBe(h20[5]);
    expect(h40[25 * 40 + 23]).toBe(-h20[5 * 20 + 3]);
    expect(h40[25 * 40 + 3]).toBe(h20[5 * 20 + 3]);
  });

  it('plans the smallest Paley factor and names unsupported widths', () => {
    expect(hadamardPlan(64)).toEqual({ K: 1, pow2: 64 });
    expect(hadamardPlan(2560)).toEqual({ K: 20, pow2: 128 });
    expect(hadamardPlan(6912)).toEqual({ K: 108, pow2: 64 });
    expect(hadamardPlan(48)).toEqual({ K: 12, pow2: 4 });
    expect(hadamardPlan(160)).toEqual({ K: 20, pow2: 8 });
    for (const n of [6, 28, 36, 100, 7]) expect(() => hadamardPlan(n)).toThrow(new RegExp(`no construction for width ${n} `));
    expect(() => hadamardTransform(new Float64Array(28), 28)).toThrow(/width 28/);
    expect(() => hadamardPlan(0)).toThrow(/width 0/);
  });
});

describe('fast Hadamard transform', () => {
  const widths = [1, 2, 16, 64, 12, 24, 48, 20, 80, 40, 160, 108];
  for (const n of widths) {
    it(`width ${n}: fast == dense, orthonormal, inverse`, () => {
      const H = denseHadamard(n);
      // Orthonormal: H Hᵀ = I.
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          let s = 0;
          for (let l = 0; l < n; l++) s += H[r * n + l] * H[c * n + l];
          if (Math.abs(s - (r === c ? 1 : 0)) > 1e-12) throw new Error(`not orthonormal at ${r}, ${c}`);
        }
      }
      const x = randomVec(n, n);
      const y = Float64Array.from(x);
      hadamardTransform(y, n);
      expect(maxDiff(y, matVec(H, x))).toBeLessThan(1e-12);
      hadamardTransform(y, n, 0, true);
      expect(maxDiff(y, x)).toBeLessThan(1e-12);
    });
  }

  it('Kronecker order: H_n = H_K ⊗ H_2^k with input index i * 2^k + j', () => {
    const n = 24; // K = 12, 2^k = 2
    const H = denseHadamard(n);
    const hk = paleyHadamard(12);
    const s = 1 / Math.sqrt(24);
    expect(H[(3 * 2 + 1) * n + (5 * 2 + 1)]).toBeCloseTo(hk[3 * 12 + 5] * -1 * s, 15);
    expect(H[(3 * 2 + 0) * n + (5 * 2 + 1)]).toBeCloseTo(hk[3 * 12 + 5] * s, 15);
  });

  it('powers of two are self-inverse; Paley widths invert with the transpose', () => {
    const x = randomVec(32, 1);
    const y = Float64Array.from(x);
    hadamardTransform(y, 32);
    hadamardTransform(y, 32);
    expect(maxDiff(x, y)).toBeLessThan(1e-12);
    const z = randomVec(12, 2);
    const w = Float64Array.from(z);
    hadamardTransform(w, 12);
    expect(maxDiff(w, matVec(denseHadamard(12), z, false))).toBeLessThan(1e-12);
    hadamardTransform(w, 12);
    expect(maxDiff(w, z)).toBeGreaterThan(1e-3); // H_12 is not symmetric
  });

  it('works in place at an offset in float32 and keeps the norm at 2B-4T widths (2560, 6912)', () => {
    for (const n of [2560, 6912]) {
      const x = randomVec(n, 3);
      const buf = new Float32Array(n + 8);
      buf.set(x, 4);
      const norm = (v: ArrayLike<number>, a: number, b: number) => Math.hypot(...Array.from({ length: b - a }, (_, i) => v[a + i]));
      hadamardTransform(buf, n, 4);
      expect(buf[0]).toBe(0);
      expect(buf[n + 4]).toBe(0);
      expect(norm(buf, 4, n + 4) / norm(x, 0, n)).toBeCloseTo(1, 5);
      hadamardTransform(buf, n, 4, true);
      expect(maxDiff(buf.subarray(4, n + 4), x)).toBeLessThan(1e-4);
    }
  });

  it('refuses a range outside the array', () => {
    expect(() => hadamardTransform(new Float64Array(16), 16, 4)).toThrow(/outside/);
  });
});
