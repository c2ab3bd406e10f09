// Per-token activation quantizers of ../shared/spec/bitnet.md and docs/model-format.md.
//
// Precision: everything is computed in float64 (JavaScript numbers) on the given values, with the
// spec's order of operations, e.g. q = round((127 * x) / (g + eps)). The ONNX graph computes in
// float32, so an input that lands within ~1e-7 of a rounding boundary may round differently there;
// compare quantized integers with that in mind.
import type { SiteQuantizer } from './scheme.js';

export const QUANT_EPS = 1e-5;
const SQRT7 = Math.sqrt(7);

type Row = Float32Array | Float64Array;
export interface Quantized {
  /** Integer codes. */
  q: Int8Array;
  /** Real value = q * scale. */
  scale: number;
}

/** Round half to even (torch.round / ONNX Round); Math.round rounds half up. Never returns -0. */
export function roundHalfEven(x: number): number {
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r + 0;
}

function roundClip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(roundHalfEven(x), lo), hi);
}

function absMax(x: Row): number {
  let g = 0;
  for (let i = 0; i < x.length; i++) g = Math.max(g, Math.abs(x[i]));
  return g;
}

/** INT8 absmax: q = RoundClip(127 x / (max|x| + eps), -128, 127), scale = max|x| / 127. */
export function quantInt8Absmax(x: Row): Quantized {
  const g = absMax(x);
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = roundClip((127 * x[i]) / (g + QUANT_EPS), -128, 127);
  return { q, scale: g / 127 };
}

/** INT4 absmean: q = RoundClip(sqrt(7) x / (mean|x| + eps), -8, 7), scale = mean|x| / sqrt(7). */
export function quantInt4Absmean(x: Row): Quantized {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]);
  const b = x.length ? sum / x.length : 0;
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = roundClip((SQRT7 * x[i]) / (b + QUANT_EPS), -8, 7);
  return { q, scale: b / SQRT7 };
}

/** 1 for the k channels of largest |x|, 0 elsewhere; equal |x| are kept lower channel index first. */
export function topKMask(x: Row, k: number): Uint8Array {
  const n = x.length;
  const keep = Math.max(0, Math.min(n, Math.floor(k)));
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => Math.abs(x[b]) - Math.abs(x[a]) || a - b);
  const mask = new Uint8Array(n);
  for (let i = 0; i < keep; i++) mask[idx[i]] = 1;
  return mask;
}

/** a4.8's W_o input: INT8 absmax over the whole row, then keep the top n/2 channels by |x|. */
export function quantInt8Top50(x: Row): Quantized {
  const r = quantInt8Absmax(x);
  const mask = topKMask(x, x.length / 2);
  for (let i = 0; i < x.length; i++) if (!mask[i]) r.q[i] = 0;
  return r;
}

/**
 * KV cache (one token, one KV head): symmetric absmax, Q = 2^(bits-1) - 1,
 * q = RoundClip(Q x / (max|x| + eps), -Q-1, Q), scale = max|x| / Q.
 */
export function quantKv(x: Row, bits: number): Quantized {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new RangeError(`KV bits must be an integer in 2..8, got ${bits}`);
  const Q = 2 ** (bits - 1) - 1;
  const g = absMax(x);
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = roundClip((Q * x[i]) / (g + QUANT_EPS), -Q - 1, Q);
  return { q, scale: g / Q };
}

/** The quantizer a site uses; null for 'none' (full precision). */
export function quantizeSite(kind: SiteQuantizer, x: Row): Quantized | null {
  switch (kind) {
    case 'none':
      return null;
    case 'int8':
      return quantInt8Absmax(x);
    case 'int4':
      return quantInt4Absmean(x);
    case 'int8-top50':
      return quantInt8Top50(x);
  }
}

export function dequantize({ q, scale }: Quantized): Float64Array {
  const out = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale;
  return out;
}
