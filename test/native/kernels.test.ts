// Differential tests: every native kernel path on this machine vs engine/common (bit-exact).
import { describe, expect, it } from 'vitest';
import { hadamardTransform } from '../../engine/common/hadamard.js';
import { quantInt4Absmean, quantInt8Absmax, quantInt8Top50, quantKv, QUANT_EPS } from '../../engine/common/quant.js';
import { Rng } from '../../engine/common/random-model.js';
import { packTernary } from '../../engine/common/ternary.js';
import { checkIsa, loadNativeAddon, type NativeIsa, type NativeQuantKind } from '../../engine/node/native/addon.js';
import { addon, isas, randomInt8, randomTernary } from './helpers.js';

describe('native addon loading', () => {
  it('loads and reports the CPU paths (portable always, the best one first choice)', () => {
    const s = loadNativeAddon();
    expect(s.available, s.available ? '' : s.reason).toBe(true);
    if (!s.available) return;
    expect(s.cpu.supported).toContain('portable');
    expect(s.cpu.supported).toContain(s.cpu.best);
    if (process.arch === 'x64' && s.cpu.features.includes('avx2') && s.cpu.features.includes('fma')) expect(s.cpu.supported).toContain('avx2');
  });

  it('refuses unknown and unsupported kernel paths with a clear error', () => {
    expect(() => checkIsa('sse9')).toThrow(/unknown native kernel path "sse9"/);
    const other = process.arch === 'x64' ? 'neon' : 'avx2';
    expect(() => checkIsa(other)).toThrow(new RegExp(`cannot run the ${other} kernels`));
    expect(() => addon().ternaryMatmul(new Uint8Array(4), 1, 16, new Int8Array(16), 1, other as 'neon')).toThrow(/does not support/);
  });
});

describe('packed ternary x int8 products', () => {
  const shapes: [number, number, number][] = [
    [1, 4, 1], [3, 20, 2], [7, 132, 1], [33, 260, 3], [16, 2560, 1], [5, 6912, 2],
  ];
  for (const isa of isas()) {
    it(`${isa}: integer sums equal the unpacked dot products (odd shapes, padding, batches, -128/127)`, () => {
      const rng = new Rng(11);
      for (const [rows, cols, batch] of shapes) {
        const w = randomTernary(rng, rows * cols);
        const x = randomInt8(rng, batch * cols);
        const got = addon().ternaryMatmul(packTernary(w, rows, cols), rows, cols, x, batch, isa);
        const want = new Int32Array(batch * rows);
        for (let b = 0; b < batch; b++) {
          for (let r = 0; r < rows; r++) {
            let s = 0;
            for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[b * cols + c];
            want[b * rows + r] = s;
          }
        }
        expect(got, `${rows}x${cols} batch ${batch}`).toEqual(want);
      }
    });
  }

  // The SIMD kernels take rows in groups (4, then 2, then 1 on AVX-512, 2 and 1 for rows over 1 KiB;
  // 2, then 1 on AVX2) and, for
  // the W_up skip, rows by index; the addon's optional 7th argument reaches that path.
  const matmulRows = (packed: Uint8Array, rows: number, cols: number, x: Int8Array, batch: number, isa: NativeIsa, idx: Uint32Array) =>
    addon().ternaryMatmul(packed, rows, cols, x, batch, isa, idx);
  for (const isa of isas()) {
    it(`${isa}: every row-group tail (1..9 rows) and indexed row subsets equal the unpacked dot products`, () => {
      const rng = new Rng(23);
      for (const [rows, cols, batch] of [[1, 256, 1], [2, 512, 2], [3, 1024, 1], [5, 2560, 2], [6, 260, 1], [7, 2560, 1], [9, 6912, 1], [41, 1280, 3]] as const) {
        const w = randomTernary(rng, rows * cols);
        const x = randomInt8(rng, batch * cols);
        const packed = packTernary(w, rows, cols);
        const dot = (b: number, r: number) => {
          let s = 0;
          for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[b * cols + c];
          return s;
        };
        const want = Int32Array.from({ length: batch * rows }, (_, i) => dot(Math.floor(i / rows), i % rows));
        expect(addon().ternaryMatmul(packed, rows, cols, x, batch, isa), `${rows}x${cols}`).toEqual(want);
        // Ascending subsets with gaps of every size (what the W_up skip passes), and an unordered one.
        for (const idx of [Uint32Array.from({ length: rows }, (_, r) => r).filter((r) => rng.nextU32() % 2 === 0), Uint32Array.from({ length: rows }, (_, r) => rows - 1 - r).filter((r) => r % 3 !== 1)]) {
          const sub = new Int32Array(batch * rows);
          for (let b = 0; b < batch; b++) for (const r of idx) sub[b * rows + r] = dot(b, r);
          expect(matmulRows(packed, rows, cols, x, batch, isa, idx), `${rows}x${cols} rows ${[...idx]}`).toEqual(sub);
        }
      }
      expect(() => matmulRows(new Uint8Array(4), 1, 16, new Int8Array(16), 1, isa, Uint32Array.of(1))).toThrow(/row index 1 out of range/);
    });
  }

  it('worst case sums (all weights +1 or -1, activations -128) do not overflow the int16 stages', () => {
    const cols = 6912;
    for (const isa of isas()) {
      const w = Int8Array.from({ length: 2 * cols }, (_, i) => (i < cols ? 1 : -1));
      const x = new Int8Array(cols).fill(-128);
      expect([...addon().ternaryMatmul(packTernary(w, 2, cols), 2, cols, x, 1, isa)], isa).toEqual([-128 * cols, 128 * cols]);
    }
  });

  it('rejects code 3 and mismatched sizes', () => {
    expect(() => addon().ternaryMatmul(Uint8Array.of(0x55, 0x57, 0x55, 0x55), 1, 16, new Int8Array(16), 1)).toThrow(/code 3 at row 0, column 4/);
    expect(() => addon().ternaryMatmul(new Uint8Array(3), 1, 16, new Int8Array(16), 1)).toThrow(/packed size/);
    expect(() => addon().ternaryMatmul(new Uint8Array(4), 1, 16, new Int8Array(15), 1)).toThrow(/batch \* cols/);
  });
});

describe('per-token quantizers', () => {
  const eps = QUANT_EPS;
  function rows(): Float64Array[] {
    const rng = new Rng(5);
    const out: Float64Array[] = [];
    for (const n of [1, 7, 64, 2560, 6912]) out.push(Float64Array.from({ length: n }, () => rng.normal() * (rng.next() < 0.01 ? 20 : 1)));
    // Exact ties: g + eps = 127 (INT8) and INT4 rows found by search (test/engine/common/quant.test.ts).
    out.push(Float64Array.of(127 - eps, 0.5, 1.5, -2.5, -3.5, 4.5, -5.5, 0));
    for (const p of [0.02419625211541687, 0.07627983321151702, 0.13394399416726543]) out.push(Float64Array.of(1, p, 0, 0, 0, 0, 0, 0), Float64Array.of(1, -p, 0, 0, 0, 0, 0, 0));
    out.push(Float64Array.of(3, 0.5943775481637691, 0, 0, 0, 0, 0, 0));
    out.push(new Float64Array(5), Float64Array.of(1, 1, 1, 1, -1, -1, 2, 2)); // zeros; equal |x| for top-K
    return out;
  }

  // Float64 rows take the SIMD paths when n % 8 == 0 (the tie rows have 8 elements).
  const quantizeWithIsa = (kind: NativeQuantKind, x: Float64Array | Float32Array, isa: NativeIsa) =>
    addon().quantize(kind, x, undefined, isa);
  it('INT8 absmax, INT4 absmean and a4.8 top-50% match quant.ts exactly on every path (float64 and float32 inputs, ties to even)', () => {
    let ties = 0;
    for (const x of rows()) {
      for (const src of [x, Float32Array.from(x)]) {
        for (const [kind, ref] of [['int8', quantInt8Absmax], ['int4', quantInt4Absmean], ['int8-top50', quantInt8Top50]] as const) {
          const want = ref(src);
          for (const isa of isas()) {
            const got = quantizeWithIsa(kind, src, isa);
            expect(got.q, `${kind} n=${x.length} ${isa}`).toEqual(want.q);
            expect(got.scale).toBe(want.scale);
          }
        }
      }
      const b = x.reduce((a, v) => a + Math.abs(v), 0) / x.length;
      const g = x.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      for (const v of x) {
        if (Math.abs(((127 * v) / (g + eps)) % 1) === 0.5) ties++;
        if (Math.abs(((Math.sqrt(7) * v) / (b + eps)) % 1) === 0.5) ties++;
      }
    }
    expect(ties).toBeGreaterThanOrEqual(12); // the tie rows really exercise half-to-even
  });

  it('KV quantizer matches quantKv for 8, 4, 3 bits and refuses bad widths', () => {
    for (const x of rows()) {
      for (const bits of [8, 4, 3]) {
        const got = addon().quantize('kv', x, bits);
        const want = quantKv(x, bits);
        expect(got.q).toEqual(want.q);
        expect(got.scale).toBe(want.scale);
      }
    }
    expect(() => addon().quantize('kv', new Float64Array(4), 16)).toThrow(/KV bits/);
    expect(() => addon().quantize('int3' as 'int8', new Float64Array(4))).toThrow(/unknown kind/);
  });
});

describe('fast Hadamard transform', () => {
  // Every float64 path (SIMD ones for pow2 % 32 == 0: 384, 640, 768, 2560, 6912, 4096), zeros included.
  const hadamardWithIsa = (x: Float64Array | Float32Array, inverse: boolean, isa: NativeIsa, threads = 1) => addon().hadamard(x, inverse, isa, threads);
  for (const isa of isas()) {
    it(`${isa}: matches hadamard.ts bit for bit: powers of two and Kronecker orders (12, 20, 108), both directions, float64 and float32`, () => {
      const rng = new Rng(9);
      for (const n of [1, 2, 64, 192, 384, 640, 768, 2560, 6912, 4096]) {
        const x = Float64Array.from({ length: n }, (_, i) => (i % 29 === 3 ? 0 : i % 31 === 5 ? -0 : rng.normal()));
        for (const inverse of [false, true]) {
          for (const make of [(a: Float64Array) => Float64Array.from(a), (a: Float64Array) => Float32Array.from(a)]) {
            const want = make(x);
            const got = make(x);
            hadamardTransform(want, n, 0, inverse);
            hadamardWithIsa(got, inverse, isa);
            expect(got, `n=${n} inverse=${inverse} ${want.constructor.name}`).toEqual(want);
            // The H_K step split over 3 threads (uneven row ranges), as the model runs it.
            const split = make(x);
            hadamardWithIsa(split, inverse, isa, 3);
            expect(split, `n=${n} inverse=${inverse} ${want.constructor.name}, 3 threads`).toEqual(want);
          }
        }
      }
    });
  }

  it('names the width it cannot transform', () => {
    expect(() => addon().hadamard(new Float64Array(28))).toThrow(/width 28/);
  });
});

describe('missing addon', () => {
  it('is reported with the reason, and NativeCpuModel throws a clear error instead of crashing', async () => {
    const { execFile } = await import('node:child_process');
    const code = `
      import { loadNativeAddon } from './engine/node/native/addon.ts';
      import { NativeCpuModel } from './engine/node/native/cpu-model.ts';
      const s = loadNativeAddon();
      let err = '';
      try { new NativeCpuModel({}, { scheme: 'b1.58', kvBits: 16 }); } catch (e) { err = e.name + ': ' + e.message; }
      console.log(JSON.stringify({ available: s.available, reason: s.reason, err }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, BITLENS_NATIVE_ADDON: '/nonexistent/bitlens_native.node' } }, (e, stdout) =>
        e ? reject(e) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/\/nonexistent\/bitlens_native\.node could not be loaded/);
    expect(r.err).toMatch(/^NativeUnavailableError: the native CPU backend is unavailable: .*could not be loaded/);
  });
});
