// Layer x channel outlier map on canvas: each cell is log2(max|x| / layer median) over recent tokens.
import { memo } from 'react';
import type { Heatmap as HeatmapData } from '../data/outliers.js';
import type { Palette } from '../app/theme.js';
import { useCanvas } from './useCanvas.js';

/** Dark-to-hot ramp (0 = typical channel, 1 = outlier at the clamp). */
function ramp(t: number, dark: boolean): [number, number, number] {
  const stops: [number, number, number][] = dark
    ? [[22, 25, 29], [40, 60, 120], [200, 60, 60], [255, 200, 60], [255, 255, 220]]
    : [[244, 246, 250], [150, 180, 230], [220, 80, 60], [250, 170, 30], [90, 20, 10]];
  const s = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(s);
  const f = s - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

interface Props {
  data: HeatmapData;
  palette: Palette;
  dark: boolean;
  label: string;
  selectedLayer: number;
}

export const HeatmapCanvas = memo(function HeatmapCanvas({ data, palette: c, dark, label, selectedLayer }: Props) {
  const rowH = Math.max(6, Math.min(16, Math.floor(160 / Math.max(1, data.rows))));
  const height = data.rows * rowH + 16;
  const ref = useCanvas((ctx, W) => {
    const left = 26;
    const w = Math.max(1, Math.floor(W - left - 4));
    const px = Math.min(w, data.cols || 1);
    // Channels wider than the canvas are max-pooled so a single outlier channel never disappears.
    const img = ctx.createImageData(px, data.rows);
    for (let r = 0; r < data.rows; r++) {
      for (let p = 0; p < px; p++) {
        const c0 = Math.floor((p * data.cols) / px);
        const c1 = Math.max(c0 + 1, Math.floor(((p + 1) * data.cols) / px));
        let m = 0;
        for (let ch = c0; ch < c1; ch++) m = Math.max(m, data.cells[r * data.cols + ch]);
        const [R, G, B] = ramp(m / data.maxLog2, dark);
        const o = (r * px + p) * 4;
        img.data[o] = R;
        img.data[o + 1] = G;
        img.data[o + 2] = B;
        img.data[o + 3] = 255;
      }
    }
    const off = document.createElement('canvas');
    off.width = px;
    off.height = data.rows;
    off.getContext('2d')?.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, left, 0, w, data.rows * rowH);
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = c.muted;
    for (let r = 0; r < data.rows; r++) {
      if (data.rows > 16 && r % 4 && r !== selectedLayer) continue;
      ctx.fillStyle = r === selectedLayer ? c.fg : c.muted;
      ctx.fillText(`L${r}`, 2, r * rowH + rowH / 2 + 3);
    }
    ctx.strokeStyle = c.fg;
    ctx.strokeRect(left + 0.5, selectedLayer * rowH + 0.5, w - 1, rowH - 1);
    ctx.fillStyle = c.muted;
    ctx.fillText('channel 0', left, data.rows * rowH + 12);
    ctx.textAlign = 'right';
    ctx.fillText(String(Math.max(0, data.cols - 1)), left + w, data.rows * rowH + 12);
    ctx.textAlign = 'left';
  }, height);
  return (
    <canvas
      ref={ref}
      className="heatmap-canvas"
      style={{ height }}
      role="img"
      aria-label={`${label}: ${data.rows} layers by ${data.cols} channels, colour = log2 of channel max over layer median (0 to ${data.maxLog2})`}
    />
  );
});
