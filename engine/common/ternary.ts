// Ternary weights: absmean ternarization (spec: "Weights, ternary, per tensor") and the 2-bit
// packing of docs/model-format.md: row-major [out, in], weight (r, c) in byte (r, c >> 2) at bits
// 2*(c & 3)..+1 (lowest first), code = w + 1; code 3 is invalid.
import { roundHalfEven } from './quant.js';

export const TERNARY_EPS = 1e-5;

function checkDims(rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || cols % 4 !== 0) {
    throw new RangeError(`packed ternary needs integer rows and cols with cols % 4 == 0 (got ${rows} x ${cols})`);
  }
}

export function packTernary(values: Int8Array, rows: number, cols: number): Uint8Array {
  checkDims(rows, cols);
  if (values.length !== rows * cols) throw new RangeError(`expected ${rows * cols} values, got ${values.length}`);
  const out = new Uint8Array((rows * cols) / 4);
  for (let i = 0; i < values.length; i++) {
    const w = values[i];
    if (w < -1 || w > 1) throw new RangeError(`value ${w} at index ${i} is not ternary`);
    // cols % 4 == 0, so the flat index maps to byte i >> 2 and slot i & 3 for every row.
    out[i >> 2] |= (w + 1) << (2 * (i & 3));
  }
  return out;
}

/** Index of the first byte holding code 3 (invalid), or -1. */
export function findInvalidTernaryByte(packed: Uint8Array): number {
  // A 2-bit field is 3 exactly when both its bits are set.
  for (let i = 0; i < packed.length; i++) if (packed[i] & (packed[i] >> 1) & 0x55) return i;
  return -1;
}

export function unpackTernary(packed: Uint8Array, rows: number, cols: number): Int8Array {
  checkDims(rows, cols);
  if (packed.length !== (rows * cols) / 4) throw new RangeError(`expected ${(rows * cols) / 4} packed bytes, got ${packed.length}`);
  const bad = findInvalidTernaryByte(packed);
  if (bad >= 0) {
    const row = Math.floor((bad * 4) / cols);
    throw new RangeError(`invalid ternary code 3 in byte ${bad} (row ${row}, columns ${(bad * 4) % cols}..${((bad * 4) % cols) + 3})`);
  }
  const out = new Int8Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = ((packed[i >> 2] >> (2 * (i & 3))) & 3) - 1;
  return out;
}

/** alpha = mean|W|; values = RoundClip(W / (alpha + eps), -1, 1), computed in float64. */
export function ternarize(w: Float32Array | Float64Array): { values: Int8Array; alpha: number } {
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += Math.abs(w[i]);
  const alpha = w.length ? sum / w.length : 0;
  const values = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) values[i] = Math.min(Math.max(roundHalfEven(w[i] / (alpha + TERNARY_EPS)), -1), 1);
  return { values, alpha };
}
