// A small line chart on canvas for live series (memory, tokens/s): redrawing it costs well under a
// millisecond, where an SVG chart library re-render costs tens — too much several times a second.
import { memo } from 'react';
import { usePalette } from '../app/ThemeContext.js';
import { useCanvas } from '../inspector/useCanvas.js';

export interface LineSeries {
  name: string;
  color: string;
  values: readonly number[];
  dashed?: boolean;
}

interface Props {
  xs: readonly number[];
  series: readonly LineSeries[];
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  /** Start the y axis at 0 (sizes) or fit the data (process memory). */
  zeroBased?: boolean;
  /** A fixed y range (fractions: [0, 1]) instead of one fitted to the data. */
  yDomain?: readonly [number, number];
  label: string;
  height?: number;
}

const PAD = { l: 50, r: 8, t: 8, b: 20 };

function niceTicks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

export const CanvasLines = memo(function CanvasLines({ xs, series, formatX, formatY, zeroBased = true, yDomain, label, height = 160 }: Props) {
  const c = usePalette();
  const ref = useCanvas((ctx, W, H) => {
    const w = W - PAD.l - PAD.r;
    const h = H - PAD.t - PAD.b;
    if (xs.length === 0 || w <= 0) return;
    let yMin = Infinity;
    let yMax = -Infinity;
    for (const s of series) for (const v of s.values) if (Number.isFinite(v)) { yMin = Math.min(yMin, v); yMax = Math.max(yMax, v); }
    if (!Number.isFinite(yMin)) return;
    if (zeroBased) yMin = Math.min(0, yMin);
    if (yDomain) [yMin, yMax] = yDomain;
    if (yMax === yMin) yMax = yMin + 1;
    const xMin = xs[0];
    const xMax = xs.length > 1 ? xs[xs.length - 1] : xMin + 1;
    const X = (v: number) => PAD.l + ((v - xMin) / (xMax - xMin || 1)) * w;
    const Y = (v: number) => PAD.t + h - ((v - yMin) / (yMax - yMin)) * h;
    ctx.font = '10px system-ui, sans-serif';
    ctx.strokeStyle = c.grid;
    ctx.fillStyle = c.muted;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    for (const t of niceTicks(yMin, yMax, 4)) {
      ctx.beginPath();
      ctx.moveTo(PAD.l, Math.round(Y(t)) + 0.5);
      ctx.lineTo(PAD.l + w, Math.round(Y(t)) + 0.5);
      ctx.stroke();
      ctx.fillText(formatY(t), PAD.l - 4, Y(t) + 3);
    }
    ctx.textAlign = 'center';
    for (const t of niceTicks(xMin, xMax, 5)) ctx.fillText(formatX(t), Math.min(PAD.l + w - 12, Math.max(PAD.l + 12, X(t))), H - 5);
    ctx.textAlign = 'left';
    ctx.lineWidth = 1.5;
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.setLineDash(s.dashed ? [5, 4] : []);
      ctx.beginPath();
      s.values.forEach((v, i) => (i ? ctx.lineTo(X(xs[i]), Y(v)) : ctx.moveTo(X(xs[i]), Y(v))));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }, height);
  const last = series.map((s) => `${s.name} ${formatY(s.values.at(-1) ?? NaN)}`).join(', ');
  return (
    <div className="canvas-lines">
      <canvas ref={ref} className="line-canvas" style={{ height }} role="img" aria-label={`${label}: ${xs.length} points; latest ${last}`} />
      {series.length > 1 && (
        <ul className="legend">
          {series.map((s) => (
            <li key={s.name}>
              <span className={`swatch${s.dashed ? ' dashed' : ''}`} style={{ borderColor: s.color }} />
              {s.name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
});
