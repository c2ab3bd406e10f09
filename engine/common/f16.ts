// IEEE half precision <-> float conversion (Node 20 has no Float16Array). Embeddings are stored as F16.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half-precision bits -> number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** number -> half-precision bits, rounding to nearest even (as numpy / torch .half()). */
export function floatToHalf(x: number): number {
  f32[0] = x; // through float32 first, like a float32 tensor cast to fp16
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m; // a carry into the exponent field is still the right encoding
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  let out = sign | (e << 10) | m;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) out++; // carry may roll into exponent: correct
  return out;
}

/** Little-endian F16 bytes -> Float32Array. */
export function f16BytesToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return out;
}

/** Float32Array -> little-endian F16 bytes. */
export function f32ToF16Bytes(x: Float32Array | Float64Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = floatToHalf(x[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

/** Little-endian F32 bytes -> Float32Array (copied, so the result is aligned). */
export function f32BytesToF32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** Float32Array -> little-endian F32 bytes (a view on a copy). */
export function f32ToBytes(x: Float32Array): Uint8Array {
  return new Uint8Array(Float32Array.from(x).buffer);
}
