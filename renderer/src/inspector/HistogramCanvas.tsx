// Activation histogram on a log-count axis with the quantization grid and clipping range.
import { memo, useMemo } from 'react';
import { binValues, logCount } from '../data/histogram.js';
import type { GridStats } from '../data/siteStats.js';
import type { Palette } from '../app/theme.js';
import { useCanvas } from './useCanvas.js';

export const HIST_BINS = 81;

interface Props {
  values: Float32Array;
  /** Symmetric x range [-range, range], shared by panels shown side by side. */
  range: number;
  grid: (GridStats & { bits: 4 | 8 }) | null;
  palette: Palette;
  label: string;
  height?: number;
}

const PAD = { l: 30, r: 6, t: 6, b: 18 };

export const HistogramCanvas = memo(function HistogramCanvas({ values, range, grid, palette: c, label, height = 120 }: Props) {
  const hist = useMemo(() => binValues(values, -range, range, HIST_BINS), [values, range]);
  const ref = useCanvas((ctx, W, H) => {
    const w = W - PAD.l - PAD.r;
    const h = H - PAD.t - PAD.b;
    const x = (v: number) => PAD.l + ((v + range) / (2 * range)) * w;
    let maxLog = 1;
    for (const n of hist.counts) maxLog = Math.max(maxLog, logCount(n));
    const yMax = Math.ceil(maxLog);
    const y = (l: number) => PAD.t + h - (l / yMax) * h;

    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = c.muted;
    ctx.strokeStyle = c.grid;
    ctx.lineWidth = 1;
    // y axis: decades of count.
    for (let d = 0; d <= yMax; d++) {
      ctx.beginPath();
      ctx.moveTo(PAD.l, y(d) + 0.5);
      ctx.lineTo(PAD.l + w, y(d) + 0.5);
      ctx.stroke();
      ctx.fillText(d === 0 ? '0' : `1e${d}`, 2, y(d) + 3);
    }

    if (grid && grid.scale > 0) {
      // Quantization grid: every level when they are at least 5 px apart, else every 2^k-th level.
      const step = grid.scale;
      const px = (step / (2 * range)) * w;
      let every = 1;
      while (every * px < 5) every *= 2;
      ctx.strokeStyle = c.accent2;
      ctx.globalAlpha = every > 1 ? 0.22 : 0.4;
      for (let q = grid.qmin; q <= grid.qmax; q++) {
        if (q % every) continue;
        const gx = x(q * step);
        if (gx < PAD.l || gx > PAD.l + w) continue;
        ctx.beginPath();
        ctx.moveTo(gx + 0.5, PAD.t);
        ctx.lineTo(gx + 0.5, PAD.t + h);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      ctx.fillStyle = c.accent2;
      ctx.textAlign = 'right';
      // Thinned grids say so: "1:4" = one line per 4 levels.
      ctx.fillText(`INT${grid.bits} grid${every > 1 ? ` 1:${every}` : ''}`, PAD.l + w - 2, PAD.t + 9);
      ctx.textAlign = 'left';
      // Clipping range: values beyond half a step past the end levels saturate.
      const lo = (grid.qmin - 0.5) * step;
      const hi = (grid.qmax + 0.5) * step;
      ctx.fillStyle = c.bad;
      ctx.globalAlpha = 0.1;
      if (x(lo) > PAD.l) ctx.fillRect(PAD.l, PAD.t, x(lo) - PAD.l, h);
      if (x(hi) < PAD.l + w) ctx.fillRect(x(hi), PAD.t, PAD.l + w - x(hi), h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = c.bad;
      ctx.setLineDash([4, 3]);
      for (const v of [lo, hi]) {
        const gx = Math.min(Math.max(x(v), PAD.l), PAD.l + w);
        ctx.beginPath();
        ctx.moveTo(gx + 0.5, PAD.t);
        ctx.lineTo(gx + 0.5, PAD.t + h);
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }

    // Bars.
    const bw = w / hist.counts.length;
    ctx.fillStyle = c.accent;
    hist.counts.forEach((n, i) => {
      if (!n) return;
      const top = y(logCount(n));
      ctx.fillRect(PAD.l + i * bw, top, Math.max(1, bw - 0.5), PAD.t + h - top);
    });

    // x axis labels.
    ctx.fillStyle = c.muted;
    const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
    ctx.textAlign = 'left';
    ctx.fillText(fmt(-range), PAD.l, H - 4);
    ctx.textAlign = 'center';
    ctx.fillText('0', x(0), H - 4);
    ctx.textAlign = 'right';
    ctx.fillText(fmt(range), PAD.l + w, H - 4);
    ctx.textAlign = 'left';
  }, height);

  return (
    <canvas
      ref={ref}
      className="hist-canvas"
      style={{ height }}
      role="img"
      aria-label={`${label}: histogram of ${values.length} values over ±${range.toPrecision(3)}, log count${grid ? `, INT${grid.bits} grid step ${grid.scale.toPrecision(3)}, ${(grid.clipped * 100).toFixed(2)}% clipped` : ''}`}
    />
  );
});
