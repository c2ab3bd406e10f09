// Per-vector statistics a quantization researcher reads next to a histogram.

export interface Moments {
  absmax: number;
  absmean: number;
  mean: number;
  std: number;
  /** Pearson kurtosis m4 / m2^2 (3 for a Gaussian; outlier-heavy vectors go far higher). */
  kurtosis: number;
}

export function moments(x: ArrayLike<number>): Moments {
  const n = x.length;
  if (n === 0) return { absmax: 0, absmean: 0, mean: 0, std: 0, kurtosis: 0 };
  let sum = 0;
  let sumAbs = 0;
  let absmax = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    sum += v;
    const a = Math.abs(v);
    sumAbs += a;
    if (a > absmax) absmax = a;
  }
  const mean = sum / n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  return { absmax, absmean: sumAbs / n, mean, std: Math.sqrt(m2), kurtosis: m2 > 0 ? m4 / (m2 * m2) : 0 };
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - xhat)^2). */
export function sqnrDb(x: ArrayLike<number>, xhat: ArrayLike<number>): number {
  if (x.length !== xhat.length) throw new RangeError(`sqnr: length mismatch ${x.length} vs ${xhat.length}`);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < x.length; i++) {
    signal += x[i] * x[i];
    const e = x[i] - xhat[i];
    noise += e * e;
  }
  if (noise === 0) return signal === 0 ? 0 : Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}

/** Median of a copy of the values (0 when empty). */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
