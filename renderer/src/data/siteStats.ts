// Quantization statistics of one activation vector at 4 and 8 bits, with the engine's quantizers.
import { quantInt4Absmean, quantInt8Absmax, type Quantized } from '../../../engine/common/quant.js';
import { moments, sqnrDb, type Moments } from './stats.js';

type Row = Float32Array | Float64Array;

export interface GridStats {
  /** Grid step (real value of one integer code). */
  scale: number;
  qmin: number;
  qmax: number;
  sqnrDb: number;
  /** Fraction of values beyond the grid's ends by more than half a step (saturated by the clip). */
  clipped: number;
  /** Fraction of values quantized to exactly 0. */
  zeros: number;
}

export interface VectorStats extends Moments {
  int4: GridStats;
  int8: GridStats;
}

function gridStats(x: Row, r: Quantized, qmin: number, qmax: number): GridStats {
  const { q, scale } = r;
  let clipped = 0;
  let zeros = 0;
  const xhat = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    xhat[i] = q[i] * scale;
    if (q[i] === 0) zeros++;
    if (scale > 0 && ((q[i] === qmax && x[i] / scale > qmax + 0.5) || (q[i] === qmin && x[i] / scale < qmin - 0.5))) clipped++;
  }
  const n = x.length || 1;
  return { scale, qmin, qmax, sqnrDb: sqnrDb(x, xhat), clipped: clipped / n, zeros: zeros / n };
}

export function vectorStats(x: Row): VectorStats {
  return {
    ...moments(x),
    int4: gridStats(x, quantInt4Absmean(x), -8, 7),
    int8: gridStats(x, quantInt8Absmax(x), -128, 127),
  };
}

const cache = new WeakMap<Row, VectorStats>();

/** vectorStats memoised on the vector's identity: tap vectors are never mutated once received. */
export function cachedVectorStats(x: Row): VectorStats {
  let s = cache.get(x);
  if (!s) {
    s = vectorStats(x);
    cache.set(x, s);
  }
  return s;
}
