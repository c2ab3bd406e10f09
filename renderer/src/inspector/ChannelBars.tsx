// Per-channel max |x| over recent tokens as bars, with the top channels marked.
import { memo } from 'react';
import type { Palette } from '../app/theme.js';
import { useCanvas } from './useCanvas.js';

interface Props {
  channelMax: Float32Array;
  marked: readonly number[];
  /** Shared y maximum so before/after panels compare directly. */
  yMax: number;
  palette: Palette;
  label: string;
}

export const ChannelBars = memo(function ChannelBars({ channelMax, marked, yMax, palette: c, label }: Props) {
  const height = 90;
  const ref = useCanvas((ctx, W, H) => {
    const left = 30;
    const w = W - left - 4;
    const h = H - 14;
    const n = channelMax.length || 1;
    const px = Math.min(Math.floor(w), n);
    ctx.fillStyle = c.accent;
    for (let p = 0; p < px; p++) {
      const c0 = Math.floor((p * n) / px);
      const c1 = Math.max(c0 + 1, Math.floor(((p + 1) * n) / px));
      let m = 0;
      for (let ch = c0; ch < c1; ch++) m = Math.max(m, channelMax[ch]);
      const bh = (m / yMax) * h;
      ctx.fillRect(left + (p * w) / px, h - bh, Math.max(1, w / px - 0.3), bh);
    }
    ctx.fillStyle = c.bad;
    for (const ch of marked) {
      const bx = left + (ch / n) * w;
      const bh = (channelMax[ch] / yMax) * h;
      ctx.fillRect(bx - 1, h - bh, 2.5, bh);
      ctx.beginPath();
      ctx.arc(bx, Math.max(4, h - bh - 4), 3, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = c.muted;
    ctx.fillText(yMax.toPrecision(3), 0, 10);
    ctx.fillText('0', 0, h);
    ctx.fillText('channel →', left, H - 2);
  }, height);
  return <canvas ref={ref} className="bars-canvas" style={{ height }} role="img" aria-label={`${label}: per-channel max |x|, top channels marked`} />;
});
