// Fixed-range histogram binning for activation vectors (pure, allocation-light: it runs per frame).

export interface Histogram {
  lo: number;
  hi: number;
  counts: Uint32Array;
  /** Values below lo / above hi (not in any bin). */
  under: number;
  over: number;
  total: number;
}

/** Bins `x` into `bins` equal bins over [lo, hi]; hi itself falls in the last bin. */
export function binValues(x: ArrayLike<number>, lo: number, hi: number, bins: number): Histogram {
  if (!(bins >= 1) || !Number.isInteger(bins)) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!(hi > lo)) throw new RangeError(`histogram range must satisfy lo < hi, got [${lo}, ${hi}]`);
  const counts = new Uint32Array(bins);
  const k = bins / (hi - lo);
  let under = 0;
  let over = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < lo) under++;
    else if (v > hi) over++;
    else if (v === hi) counts[bins - 1]++;
    else if (v >= lo) counts[Math.floor((v - lo) * k)]++;
    // NaN falls through every comparison and is not counted in any bin.
  }
  return { lo, hi, counts, under, over, total: x.length };
}

/** Largest |x| (0 for an empty vector). */
export function absMax(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m) m = a;
  }
  return m;
}

/**
 * A symmetric display range that covers every vector given, so that histograms shown side by
 * side (before/after the Hadamard transform) share one x axis and differ visibly in width.
 */
export function sharedRange(vectors: readonly (ArrayLike<number> | undefined)[]): number {
  let m = 0;
  for (const v of vectors) if (v) m = Math.max(m, absMax(v));
  return m > 0 ? m : 1;
}

/** log10(1 + count): the y value of a log-count axis that keeps empty bins at 0. */
export function logCount(count: number): number {
  return Math.log10(1 + count);
}
