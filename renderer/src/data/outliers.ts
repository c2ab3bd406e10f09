// Outlier channels: per-channel |x| max over recent tokens, ranking, and the layer x channel map.
import { median } from './stats.js';

/** Per-channel max |x| over the vectors (all must have the same width). */
export function channelAbsMax(vectors: readonly ArrayLike<number>[]): Float32Array {
  if (vectors.length === 0) return new Float32Array(0);
  const width = vectors[0].length;
  const out = new Float32Array(width);
  for (const v of vectors) {
    if (v.length !== width) throw new RangeError(`channelAbsMax: width ${v.length} differs from ${width}`);
    for (let c = 0; c < width; c++) {
      const a = Math.abs(v[c]);
      if (a > out[c]) out[c] = a;
    }
  }
  return out;
}

export interface OutlierChannel {
  channel: number;
  value: number;
  /** value / median over all channels (Infinity when the median is 0 and value is not). */
  ratio: number;
}

/** The `top` channels by value, largest first (ties toward the lower channel index). */
export function rankOutliers(channelMax: ArrayLike<number>, top: number): { median: number; top: OutlierChannel[] } {
  const med = median(channelMax);
  const idx = Array.from({ length: channelMax.length }, (_, i) => i);
  idx.sort((a, b) => channelMax[b] - channelMax[a] || a - b);
  return {
    median: med,
    top: idx.slice(0, Math.max(0, top)).map((channel) => {
      const value = channelMax[channel];
      return { channel, value, ratio: med > 0 ? value / med : value > 0 ? Infinity : 0 };
    }),
  };
}

export interface Heatmap {
  rows: number;
  cols: number;
  /** Row-major log2(value / row median), clamped to [0, maxLog2]: 0 = typical, maxLog2 = outlier. */
  cells: Float32Array;
  maxLog2: number;
}

/**
 * Layer x channel outlier map. Normalising each row by its own median makes outlier channels
 * stand out whatever the layer's overall scale is, and shows directly how far the Hadamard
 * transform flattens them.
 */
export function outlierHeatmap(rowsData: readonly ArrayLike<number>[], maxLog2 = 6): Heatmap {
  const rows = rowsData.length;
  const cols = rows ? rowsData[0].length : 0;
  const cells = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = rowsData[r];
    const med = median(row);
    for (let c = 0; c < cols; c++) {
      const ratio = med > 0 ? row[c] / med : row[c] > 0 ? 2 ** maxLog2 : 1;
      cells[r * cols + c] = Math.min(maxLog2, Math.max(0, Math.log2(ratio)));
    }
  }
  return { rows, cols, cells, maxLog2 };
}
