// CSV / JSON export of the inspector's histograms and per-layer statistics.
import type { Histogram } from './histogram.js';
import type { VectorStats } from './siteStats.js';

export interface HistogramRecord {
  position: number;
  layer: number;
  site: string;
  /** 'pre-hadamard' or 'quantizer-input'. */
  variant: string;
  hist: Histogram;
}

export interface StatsRecord {
  position: number;
  layer: number;
  site: string;
  variant: string;
  stats: VectorStats;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export function histogramsCsv(records: readonly HistogramRecord[]): string {
  const rows: (string | number)[][] = [];
  for (const r of records) {
    const { lo, hi, counts } = r.hist;
    const w = (hi - lo) / counts.length;
    counts.forEach((c, i) => rows.push([r.position, r.layer, r.site, r.variant, lo + i * w, lo + (i + 1) * w, c]));
  }
  return toCsv(['position', 'layer', 'site', 'variant', 'bin_lo', 'bin_hi', 'count'], rows);
}

const STAT_COLUMNS = [
  'position', 'layer', 'site', 'variant', 'absmax', 'absmean', 'kurtosis',
  'sqnr_db_int4', 'sqnr_db_int8', 'clipped_int4', 'clipped_int8', 'zeros_int4', 'zeros_int8',
] as const;

export function statsCsv(records: readonly StatsRecord[]): string {
  return toCsv(
    STAT_COLUMNS,
    records.map(({ position, layer, site, variant, stats: s }) => [
      position, layer, site, variant, s.absmax, s.absmean, s.kurtosis,
      s.int4.sqnrDb, s.int8.sqnrDb, s.int4.clipped, s.int8.clipped, s.int4.zeros, s.int8.zeros,
    ]),
  );
}

/** JSON with typed arrays as plain arrays and non-finite numbers as strings (JSON has neither). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    },
    2,
  );
}
