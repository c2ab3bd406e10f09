// Ternary weight layouts of other tools, to and from plain ternary values (Int8Array of -1/0/+1,
// row-major [rows, cols]), plus bf16. Every decoder rejects codes that are not ternary.
//   HF packed     transformers' BitNet (bitnet-b1.58-2B-4T): uint8 [rows/4, cols]; row block i
//                 (rows i*P .. (i+1)*P-1, P = rows/4) sits in bits 2i..2i+1; code = w + 1.
//   TQ2_0         llama.cpp, 256-element blocks of 66 bytes: 64 bytes of 2-bit codes + f16 d; in each
//                 32-byte half, byte m holds elements m, m+32, m+64, m+96 in bits 0-1, 2-3, 4-5, 6-7.
//   TQ1_0         llama.cpp, 256-element blocks of 54 bytes: 48 bytes with 5 trits each (bytes 0-31:
//                 elements m + 32n; bytes 32-47: 160 + m + 16n), 4 bytes with 4 trits each
//                 (240 + j + 4n), f16 d. A byte holds ceil(q * 256 / 243) for the base-3 number q
//                 whose first trit is the most significant; trit n = ((byte * 3^n mod 256) * 3) >> 8.
//   I2_S          bitnet.cpp (x86 layout): 128-element blocks of 32 bytes, byte j: bits 7-6 element j,
//                 5-4 j+32, 3-2 j+64, 1-0 j+96; code = w + 1; then a 32-byte tail whose first 4 bytes
//                 are the f32 tensor scale.
// Block codecs return the per-block scales d (TQ) or the tensor scale (I2_S) with the values.
import { floatToHalf, halfToFloat } from '../f16.js';
import { I2S_TAIL_BYTES } from './gguf.js';

export const QK_K = 256;
export const TQ2_0_BLOCK_BYTES = 66;
export const TQ1_0_BLOCK_BYTES = 54;
export const I2S_BLOCK = 128;

/** A decoding problem; callers wrap it in a ModelFormatError naming file and tensor. */
export class TernaryCodeError extends Error {
  override name = 'TernaryCodeError';
}

function checkTernary(values: Int8Array): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < -1 || values[i] > 1) throw new RangeError(`value ${values[i]} at index ${i} is not ternary`);
  }
}

// ---- Hugging Face packed (out/4, in) ----

export function encodeHfPacked(values: Int8Array, rows: number, cols: number): Uint8Array {
  if (rows % 4 !== 0 || values.length !== rows * cols) throw new RangeError(`HF packing needs rows % 4 == 0 and ${rows * cols} values (got rows ${rows}, ${values.length} values)`);
  checkTernary(values);
  const p = rows / 4;
  const out = new Uint8Array(p * cols);
  for (let r = 0; r < rows; r++) {
    const block = Math.floor(r / p);
    const o = (r % p) * cols;
    for (let c = 0; c < cols; c++) out[o + c] |= (values[r * cols + c] + 1) << (2 * block);
  }
  return out;
}

export function decodeHfPacked(packed: Uint8Array, rows: number, cols: number): Int8Array {
  if (rows % 4 !== 0 || packed.length !== (rows / 4) * cols) throw new RangeError(`HF packed [${rows / 4}, ${cols}] needs ${(rows / 4) * cols} bytes, got ${packed.length}`);
  const p = rows / 4;
  const out = new Int8Array(rows * cols);
  for (let i = 0; i < packed.length; i++) {
    const b = packed[i];
    if (b & (b >> 1) & 0x55) throw new TernaryCodeError(`invalid code 3 in packed byte ${i} (row ${i / cols | 0}, column ${i % cols})`);
    const r0 = Math.floor(i / cols);
    const c = i % cols;
    for (let k = 0; k < 4; k++) out[(k * p + r0) * cols + c] = ((b >> (2 * k)) & 3) - 1;
  }
  return out;
}

// ---- llama.cpp TQ2_0 ----

export function encodeTq2_0(values: Int8Array, d: number): Uint8Array {
  if (values.length % QK_K !== 0) throw new RangeError(`TQ2_0 needs a multiple of ${QK_K} values, got ${values.length}`);
  checkTernary(values);
  const nb = values.length / QK_K;
  const out = new Uint8Array(nb * TQ2_0_BLOCK_BYTES);
  const h = floatToHalf(d);
  for (let b = 0; b < nb; b++) {
    const x = b * QK_K;
    const o = b * TQ2_0_BLOCK_BYTES;
    for (let j = 0; j < 64; j += 32) {
      for (let m = 0; m < 32; m++) {
        let q = 0;
        for (let n = 0; n < 4; n++) q |= (values[x + j * 4 + m + n * 32] + 1) << (2 * n);
        out[o + j + m] = q;
      }
    }
    out[o + 64] = h & 0xff;
    out[o + 65] = h >> 8;
  }
  return out;
}

export function decodeTq2_0(bytes: Uint8Array, n: number): { values: Int8Array; d: Float32Array } {
  if (n % QK_K !== 0 || bytes.length !== (n / QK_K) * TQ2_0_BLOCK_BYTES) throw new RangeError(`TQ2_0 with ${n} elements needs ${(n / QK_K) * TQ2_0_BLOCK_BYTES} bytes, got ${bytes.length}`);
  const nb = n / QK_K;
  const values = new Int8Array(n);
  const d = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const x = b * QK_K;
    const o = b * TQ2_0_BLOCK_BYTES;
    for (let j = 0; j < 64; j += 32) {
      for (let m = 0; m < 32; m++) {
        const q = bytes[o + j + m];
        for (let k = 0; k < 4; k++) {
          const code = (q >> (2 * k)) & 3;
          if (code === 3) throw new TernaryCodeError(`invalid code 3 in block ${b}, byte ${j + m}`);
          values[x + j * 4 + m + k * 32] = code - 1;
        }
      }
    }
    d[b] = halfToFloat(bytes[o + 64] | (bytes[o + 65] << 8));
  }
  return { values, d };
}

// ---- llama.cpp TQ1_0 ----

const POW3 = [1, 3, 9, 27, 81, 243];

function packTrits(trits: number[]): number {
  let q = 0;
  for (const t of trits) q = q * 3 + t;
  return Math.floor((q * 256 + 242) / 243); // ceil(q * 256 / 243)
}

export function encodeTq1_0(values: Int8Array, d: number): Uint8Array {
  if (values.length % QK_K !== 0) throw new RangeError(`TQ1_0 needs a multiple of ${QK_K} values, got ${values.length}`);
  checkTernary(values);
  const nb = values.length / QK_K;
  const out = new Uint8Array(nb * TQ1_0_BLOCK_BYTES);
  const h = floatToHalf(d);
  for (let b = 0; b < nb; b++) {
    const x = b * QK_K;
    const o = b * TQ1_0_BLOCK_BYTES;
    const t = (i: number) => values[x + i] + 1;
    for (let m = 0; m < 32; m++) out[o + m] = packTrits([0, 1, 2, 3, 4].map((n) => t(m + 32 * n)));
    for (let m = 0; m < 16; m++) out[o + 32 + m] = packTrits([0, 1, 2, 3, 4].map((n) => t(160 + m + 16 * n)));
    // Four trits then a zero: the first lands in the most significant trit, as the decoder expects.
    for (let j = 0; j < 4; j++) out[o + 48 + j] = packTrits([...[0, 1, 2, 3].map((n) => t(240 + j + 4 * n)), 0]);
    out[o + 52] = h & 0xff;
    out[o + 53] = h >> 8;
  }
  return out;
}

export function decodeTq1_0(bytes: Uint8Array, n: number): { values: Int8Array; d: Float32Array } {
  if (n % QK_K !== 0 || bytes.length !== (n / QK_K) * TQ1_0_BLOCK_BYTES) throw new RangeError(`TQ1_0 with ${n} elements needs ${(n / QK_K) * TQ1_0_BLOCK_BYTES} bytes, got ${bytes.length}`);
  const nb = n / QK_K;
  const values = new Int8Array(n);
  const d = new Float32Array(nb);
  const trit = (byte: number, k: number) => (((byte * POW3[k]) & 0xff) * 3) >> 8;
  for (let b = 0; b < nb; b++) {
    const x = b * QK_K;
    const o = b * TQ1_0_BLOCK_BYTES;
    // Bytes above 242 * 256 / 243 rounded up (= 255 for 5 trits) cannot come from the encoder; the
    // decoder still maps every byte to trits 0..2, so there is nothing invalid to reject.
    for (let m = 0; m < 32; m++) for (let k = 0; k < 5; k++) values[x + m + 32 * k] = trit(bytes[o + m], k) - 1;
    for (let m = 0; m < 16; m++) for (let k = 0; k < 5; k++) values[x + 160 + m + 16 * k] = trit(bytes[o + 32 + m], k) - 1;
    for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) values[x + 240 + j + 4 * k] = trit(bytes[o + 48 + j], k) - 1;
    d[b] = halfToFloat(bytes[o + 52] | (bytes[o + 53] << 8));
  }
  return { values, d };
}

// ---- bitnet.cpp I2_S (x86 layout) ----

export function encodeI2S(values: Int8Array, scale: number): Uint8Array {
  if (values.length % I2S_BLOCK !== 0) throw new RangeError(`I2_S needs a multiple of ${I2S_BLOCK} values, got ${values.length}`);
  checkTernary(values);
  const n = values.length;
  const out = new Uint8Array(n / 4 + I2S_TAIL_BYTES);
  for (let i = 0; i < n; i++) {
    const blk = Math.floor(i / I2S_BLOCK);
    const j = i % I2S_BLOCK;
    out[blk * 32 + (j % 32)] |= (values[i] + 1) << (6 - 2 * Math.floor(j / 32));
  }
  new DataView(out.buffer).setFloat32(n / 4, scale, true);
  return out;
}

export function decodeI2S(bytes: Uint8Array, n: number): { values: Int8Array; scale: number } {
  if (n % I2S_BLOCK !== 0 || bytes.length !== n / 4 + I2S_TAIL_BYTES) throw new RangeError(`I2_S with ${n} elements needs ${n / 4 + I2S_TAIL_BYTES} bytes, got ${bytes.length}`);
  const values = new Int8Array(n);
  for (let i = 0; i < n / 4; i++) {
    const b = bytes[i];
    if (b & (b >> 1) & 0x55) throw new TernaryCodeError(`invalid code 3 in byte ${i}`);
    const base = Math.floor(i / 32) * I2S_BLOCK + (i % 32);
    for (let g = 0; g < 4; g++) values[base + 32 * g] = ((b >> (6 - 2 * g)) & 3) - 1;
  }
  const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(n / 4, true);
  return { values, scale };
}

// ---- bfloat16 ----

/** Little-endian BF16 bytes -> Float32Array (exact). */
export function bf16BytesToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) u[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
  return out;
}

/** Float32 values -> little-endian BF16 bytes, rounding to nearest even (as torch .bfloat16()). */
export function f32ToBf16Bytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < x.length; i++) {
    f[0] = x[i];
    const b = u[0];
    let h: number;
    if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) h = (b >>> 16) | 0x40; // keep NaN a NaN
    else h = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = (h >> 8) & 0xff;
  }
  return out;
}
