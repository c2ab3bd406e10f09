// The llama.cpp block types GGUF files use for BitNet embeddings / output (llama-quantize keeps the
// ternary projections in TQ1_0/TQ2_0/I2_S but quantizes token_embd, e.g. to Q6_K or Q4_K), decoded to
// float32 as ggml-quants.c's dequantize_row_* do. Layouts (ggml-common.h):
//   Q8_0  32 elements, 34 B: f16 d, int8 qs[32];                        x = d * q
//   Q4_K  256 elements, 144 B: f16 d, f16 dmin, scales[12], qs[128];    8 sub-blocks of 32 with 6-bit
//         scale sc and min m (get_scale_min_k4); x = d*sc * q4 - dmin*m, low nibbles first per 64
//   Q6_K  256 elements, 210 B: ql[128], qh[64], int8 scales[16], f16 d; 16 sub-blocks of 16;
//         q6 = (4 bits of ql) | (2 bits of qh) << 4, minus 32; x = d * scale * q6
import { floatToHalf, halfToFloat } from '../f16.js';
import { roundHalfEven } from '../quant.js';

export const DEQUANT_TYPES = ['Q8_0', 'Q4_K', 'Q6_K'] as const;
export type DequantType = (typeof DEQUANT_TYPES)[number];
const BLOCK = { Q8_0: [32, 34], Q4_K: [256, 144], Q6_K: [256, 210] } as const;

const half = (b: Uint8Array, o: number) => halfToFloat(b[o] | (b[o + 1] << 8));

function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** n elements of `type` -> float32 (n a multiple of the block size; bytes exactly n / block * size). */
export function dequantize(type: DequantType, bytes: Uint8Array, n: number): Float32Array {
  const [block, size] = BLOCK[type];
  if (n % block !== 0 || bytes.length !== (n / block) * size) throw new RangeError(`${type} with ${n} elements needs ${(n / block) * size} bytes, got ${bytes.length}`);
  const y = new Float32Array(n);
  const s8 = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0, o = 0, yo = 0; b < n / block; b++, o += size, yo += block) {
    if (type === 'Q8_0') {
      const d = half(bytes, o);
      for (let i = 0; i < 32; i++) y[yo + i] = d * s8[o + 2 + i];
    } else if (type === 'Q4_K') {
      const d = half(bytes, o);
      const dmin = half(bytes, o + 2);
      let q = o + 16;
      let out = yo;
      for (let j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        const [sc1, m1] = scaleMinK4(is, bytes, o + 4);
        const [sc2, m2] = scaleMinK4(is + 1, bytes, o + 4);
        for (let l = 0; l < 32; l++) y[out++] = d * sc1 * (bytes[q + l] & 0xf) - dmin * m1;
        for (let l = 0; l < 32; l++) y[out++] = d * sc2 * (bytes[q + l] >> 4) - dmin * m2;
      }
    } else {
      const d = half(bytes, o + 208);
      let ql = o;
      let qh = o + 128;
      let sc = o + 192;
      for (let base = yo; base < yo + 256; base += 128, ql += 64, qh += 32, sc += 8) {
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const h = bytes[qh + l];
          y[base + l] = d * s8[sc + is] * (((bytes[ql + l] & 0xf) | ((h & 3) << 4)) - 32);
          y[base + l + 32] = d * s8[sc + is + 2] * (((bytes[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32);
          y[base + l + 64] = d * s8[sc + is + 4] * (((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32);
          y[base + l + 96] = d * s8[sc + is + 6] * (((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32);
        }
      }
    }
  }
  return y;
}

/** Q8_0 as llama.cpp's quantize_row_q8_0_ref: d = absmax / 127, q = round(x / d). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new RangeError(`Q8_0 needs a multiple of 32 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 32) * 34);
  const s8 = new Int8Array(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b * 32 + i]));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const h = floatToHalf(d);
    out[b * 34] = h & 0xff;
    out[b * 34 + 1] = h >> 8;
    // llama.cpp rounds half away from zero (roundf); ties are measure-zero for real weights.
    for (let i = 0; i < 32; i++) s8[b * 34 + 2 + i] = roundHalfEven(x[b * 32 + i] * id);
  }
  return out;
}

/**
 * Q6_K with plain absmax scales per 16-element sub-block (llama.cpp searches for better scales;
 * the layout is the same, so llama.cpp and dequantize() read these blocks identically).
 */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  if (x.length % 256 !== 0) throw new RangeError(`Q6_K needs a multiple of 256 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 256) * 210);
  const s8 = new Int8Array(out.buffer);
  for (let b = 0; b < x.length / 256; b++) {
    const xo = b * 256;
    const o = b * 210;
    const sub = new Float64Array(16);
    for (let s = 0; s < 16; s++) for (let i = 0; i < 16; i++) sub[s] = Math.max(sub[s], Math.abs(x[xo + s * 16 + i]) / 32);
    const d = halfToFloat(floatToHalf(Math.max(...sub) / 127));
    for (let s = 0; s < 16; s++) s8[o + 192 + s] = d ? Math.min(127, roundHalfEven(sub[s] / d)) : 0;
    const h = floatToHalf(d);
    out[o + 208] = h & 0xff;
    out[o + 209] = h >> 8;
    for (let e = 0; e < 256; e++) {
      const step = d * s8[o + 192 + (e >> 4)];
      const q = (step ? Math.max(-32, Math.min(31, roundHalfEven(x[xo + e] / step))) : 0) + 32;
      // Element e = 128 * half + 32 * k + l: low nibble in ql[64 * half + l + 32 * (k & 1)] (high
      // nibble for k >= 2), two high bits in qh[32 * half + l] at bits 2k.
      const half = e >> 7;
      const k = (e >> 5) & 3;
      const l = e & 31;
      const ql = o + 64 * half + l + 32 * (k & 1);
      out[ql] |= (q & 0xf) << (k >= 2 ? 4 : 0);
      out[o + 128 + 32 * half + l] |= (q >> 4) << (2 * k);
    }
  }
  return out;
}

/** Q4_K with plain min/max per 32-element sub-block (same layout as llama.cpp's). */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  if (x.length % 256 !== 0) throw new RangeError(`Q4_K needs a multiple of 256 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 256) * 144);
  for (let b = 0; b < x.length / 256; b++) {
    const xo = b * 256;
    const o = b * 144;
    const scale = new Float64Array(8);
    const mins = new Float64Array(8);
    for (let j = 0; j < 8; j++) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < 32; i++) {
        lo = Math.min(lo, x[xo + 32 * j + i]);
        hi = Math.max(hi, x[xo + 32 * j + i]);
      }
      scale[j] = (hi - lo) / 15;
      mins[j] = -lo;
    }
    const d = halfToFloat(floatToHalf(Math.max(...scale) / 63));
    const dmin = halfToFloat(floatToHalf(Math.max(...mins) / 63));
    const sc = Array.from(scale, (v) => (d ? Math.min(63, roundHalfEven(v / d)) : 0));
    const m = Array.from(mins, (v) => (dmin ? Math.min(63, roundHalfEven(v / dmin)) : 0));
    for (const [v, at] of [[floatToHalf(d), 0], [floatToHalf(dmin), 2]]) {
      out[o + at] = v & 0xff;
      out[o + at + 1] = v >> 8;
    }
    const S = o + 4; // inverse of scaleMinK4
    for (let j = 0; j < 8; j++) {
      if (j < 4) {
        out[S + j] |= sc[j];
        out[S + j + 4] |= m[j];
      } else {
        out[S + j + 4] = (sc[j] & 0xf) | ((m[j] & 0xf) << 4);
        out[S + j - 4] |= (sc[j] >> 4) << 6;
        out[S + j] |= (m[j] >> 4) << 6;
      }
    }
    for (let e = 0; e < 256; e++) {
      const j = e >> 5;
      const step = d * sc[j];
      const q = step ? Math.max(0, Math.min(15, roundHalfEven((x[xo + e] + dmin * m[j]) / step))) : 0;
      // Sub-blocks 2p and 2p+1 share bytes 16 + 32p .. : low nibble for 2p, high for 2p+1.
      out[o + 16 + 32 * (j >> 1) + (e & 31)] |= q << (j & 1 ? 4 : 0);
    }
  }
  return out;
}
