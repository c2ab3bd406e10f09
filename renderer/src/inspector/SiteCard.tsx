// One quantized linear input of the selected layer: histogram(s) and the numbers next to them.
import { memo, useRef } from 'react';
import type { Scheme } from '../../../engine/common/api.js';
import { siteQuantizer } from '../../../engine/common/scheme.js';
import { sharedRange } from '../data/histogram.js';
import { cachedVectorStats, type VectorStats } from '../data/siteStats.js';
import { SITE_LABELS } from '../data/sites.js';
import type { SiteView } from '../data/siteViews.js';
import type { Palette } from '../app/theme.js';
import { exportChartPng } from '../export/download.js';
import { HistogramCanvas } from './HistogramCanvas.js';

export type GridChoice = 'scheme' | 'int4' | 'int8' | 'none';

export function gridBits(choice: GridChoice, scheme: Scheme, site: SiteView['site']): 4 | 8 | null {
  if (choice === 'int4') return 4;
  if (choice === 'int8') return 8;
  if (choice === 'none') return null;
  const k = siteQuantizer(scheme, site);
  return k === 'int4' ? 4 : k === 'none' ? null : 8;
}

function panelsOf(view: SiteView): { key: string; label: string; values: Float32Array }[] {
  if (view.pre && view.post) {
    return [
      { key: 'pre', label: 'before Hadamard', values: view.pre },
      { key: 'post', label: view.postComputed ? 'after Hadamard (computed, not used by this scheme)' : 'after Hadamard (quantized)', values: view.post },
    ];
  }
  return [{ key: 'input', label: 'quantizer input', values: view.input }];
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const db = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} dB` : v > 0 ? '∞' : '−∞');
const num = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

const ROWS: { label: string; get: (s: VectorStats) => string }[] = [
  { label: 'absmax', get: (s) => num(s.absmax) },
  { label: 'absmean', get: (s) => num(s.absmean) },
  { label: 'kurtosis', get: (s) => num(s.kurtosis) },
  { label: 'clipped INT4', get: (s) => pct(s.int4.clipped) },
  { label: 'clipped INT8', get: (s) => pct(s.int8.clipped) },
  { label: 'SQNR INT4', get: (s) => db(s.int4.sqnrDb) },
  { label: 'SQNR INT8', get: (s) => db(s.int8.sqnrDb) },
];

interface Props {
  view: SiteView;
  scheme: Scheme;
  grid: GridChoice;
  palette: Palette;
  layer: number;
  position: number;
}

export const SiteCard = memo(function SiteCard({ view, scheme, grid, palette, layer, position }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const panels = panelsOf(view);
  const range = sharedRange(panels.map((p) => p.values));
  const bits = gridBits(grid, scheme, view.site);
  const stats = panels.map((p) => cachedVectorStats(p.values));
  const quantizer = siteQuantizer(scheme, view.site);
  return (
    <section className="card site-card" aria-label={SITE_LABELS[view.site]} data-testid={`site-${view.site}`}>
      <header>
        <h3>{SITE_LABELS[view.site]}</h3>
        <span className="muted">
          {view.input.length} ch · {quantizer === 'none' ? 'not quantized' : quantizer.toUpperCase()}
        </span>
        <button
          type="button"
          className="link"
          onClick={() => void exportChartPng(ref.current, `bitlens-L${layer}-${view.site}-pos${position}.png`, palette.bg)}
        >
          PNG
        </button>
      </header>
      <div className={`hist-row n${panels.length}`} ref={ref}>
        {panels.map((p, i) => {
          const s = stats[i];
          const g = bits === 4 ? { ...s.int4, bits: 4 as const } : bits === 8 ? { ...s.int8, bits: 8 as const } : null;
          return (
            <figure key={p.key} data-variant={p.key}>
              <figcaption>{p.label}</figcaption>
              <HistogramCanvas values={p.values} range={range} grid={g} palette={palette} label={`${SITE_LABELS[view.site]} ${p.label}`} />
            </figure>
          );
        })}
      </div>
      <table className="stats-table">
        {panels.length > 1 && (
          <thead>
            <tr>
              <th scope="col" />
              {panels.map((p) => <th key={p.key} scope="col">{p.key === 'pre' ? 'before H' : 'after H'}</th>)}
            </tr>
          </thead>
        )}
        <tbody>
          {ROWS.map((r) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              {stats.map((s, i) => <td key={i}>{r.get(s)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
});
