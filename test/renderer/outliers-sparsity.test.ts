import { describe, expect, it } from 'vitest';
import type { LayerTaps, ProjectionStats } from '../../engine/common/api.js';
import { channelAbsMax, outlierHeatmap, rankOutliers } from '../../renderer/src/data/outliers.js';
import { frameSparsity, layerActivationSparsity, meanFrameSparsity, roundToStep, summarizeSparsity, zeroFraction, PROJECTIONS } from '../../renderer/src/data/sparsity.js';
import { downsample } from '../../renderer/src/data/series.js';
import { histogramsCsv, statsCsv, toJson } from '../../renderer/src/data/exportData.js';
import { binValues } from '../../renderer/src/data/histogram.js';
import { vectorStats } from '../../renderer/src/data/siteStats.js';

describe('outliers', () => {
  it('takes the per-channel max |x| over tokens', () => {
    expect(Array.from(channelAbsMax([Float32Array.of(1, -5, 0), Float32Array.of(-2, 3, 0.5)]))).toEqual([2, 5, 0.5]);
    expect(() => channelAbsMax([[1, 2], [1]])).toThrow(/width/);
  });

  it('ranks the top channels with their ratio to the median, ties to the lower index', () => {
    const r = rankOutliers([1, 8, 1, 2, 8, 1, 1], 3);
    expect(r.median).toBe(1);
    expect(r.top).toEqual([
      { channel: 1, value: 8, ratio: 8 },
      { channel: 4, value: 8, ratio: 8 },
      { channel: 3, value: 2, ratio: 2 },
    ]);
    expect(rankOutliers([0, 0, 3], 1).top[0].ratio).toBe(Infinity);
  });

  it('maps each layer row to log2(value / row median), clamped', () => {
    const h = outlierHeatmap([[1, 1, 4, 1000], [2, 2, 2, 2]], 6);
    expect(h.rows).toBe(2);
    expect(h.cols).toBe(4);
    // Row 0 median (1 + 4) / 2 = 2.5: channel 2 is 1.6x, channel 3 saturates; below-median cells are 0.
    expect(Array.from(h.cells)).toEqual([0, 0, Math.log2(1.6), 6, 0, 0, 0, 0].map(Math.fround));
  });
});

function taps(width: number, ffn: number, fill: (i: number) => number): LayerTaps {
  const v = (n: number) => Float32Array.from({ length: n }, (_, i) => fill(i));
  return { qkv: v(width), o: v(width), gateup: v(width), down: v(ffn) };
}

describe('sparsity', () => {
  it('counts exact zeros', () => {
    expect(zeroFraction([0, 1, 0, -0])).toBe(0.75);
    expect(zeroFraction([])).toBe(0);
  });

  it('a4.8 masks half of the W_o input and derives up sparsity from zero gate outputs', () => {
    // down input: 3 of 4 channels exactly zero, as a ReLU^2 GLU produces.
    const t = taps(8, 4, (i) => (i % 2 ? 1 + i : -(1 + i)));
    t.down = Float32Array.of(0, 0, 0, 2);
    const s = layerActivationSparsity(t, 'a4.8');
    expect(s.o).toBe(0.5);
    expect(s.q).toBe(0);
    expect(s.down).toBe(0.75);
    expect(s.up).toBe(0.75);
    const b = layerActivationSparsity(t, 'b1.58');
    expect(b.o).toBe(0);
  });

  it('after the Hadamard transform the quantized W_down input is dense but up still skips zero gates', () => {
    const t = taps(8, 4, () => 1);
    t.downPreHadamard = Float32Array.of(0, 0, 0, 2);
    t.down = Float32Array.of(1, -1, 1, -1);
    const s = layerActivationSparsity(t, 'v2-a8');
    expect(s.down).toBe(0);
    expect(s.up).toBe(0.75);
  });

  it('weights the summary by parameters and combines with ternary zeros', () => {
    const proj = (rows: number, cols: number, zeroFraction: number): ProjectionStats => ({ rows, cols, alpha: 1, zeroFraction });
    const layer: Record<string, ProjectionStats> = {
      q: proj(4, 4, 0.5), k: proj(4, 4, 0.5), v: proj(4, 4, 0.5), o: proj(4, 4, 0.5),
      gate: proj(8, 4, 0.5), up: proj(8, 4, 0.5), down: proj(4, 8, 0.5),
    };
    const sp = Object.fromEntries(PROJECTIONS.map((p) => [p, p === 'down' ? 1 : 0])) as Record<(typeof PROJECTIONS)[number], number>;
    const s = summarizeSparsity([sp], [layer]);
    expect(s.totalParams).toBe(4 * 16 + 3 * 32);
    expect(s.overall).toBeCloseTo(32 / 160, 12);
    expect(s.activeShare).toBeCloseTo(128 / 160, 12);
    expect(s.weightZeros).toBe(0.5);
    expect(s.activeNonZeroShare).toBeCloseTo(64 / 160, 12);
    expect(s.byProjection.down).toBe(1);
  });
});

describe('sparsity over recent frames', () => {
  const frame = (position: number, down: number[]) => {
    const t = taps(8, 4, (i) => (i % 2 ? 1 + i : -(1 + i)));
    t.down = Float32Array.from(down);
    return { position, tokenId: 1, layers: [t, taps(8, 4, () => 1)] };
  };

  it('measures a frame once per scheme and averages frames per layer', () => {
    const a = frame(0, [0, 0, 0, 2]);
    const b = frame(1, [0, 1, 1, 2]);
    const sa = frameSparsity(a, 'a4.8');
    expect(frameSparsity(a, 'a4.8')).toBe(sa);
    expect(frameSparsity(a, 'b1.58')).not.toBe(sa);
    expect(sa.perLayer[0]).toEqual(layerActivationSparsity(a.layers[0], 'a4.8'));
    expect(sa.sites[0]).toEqual({ qkv: 0, o: 0.5, gateup: 0, down: 0.75 });
    const m = meanFrameSparsity([sa, frameSparsity(b, 'a4.8')]);
    expect(m.perLayer).toHaveLength(2);
    expect(m.sites[0].down).toBeCloseTo((0.75 + 0.25) / 2, 12);
    expect(m.perLayer[0].up).toBeCloseTo((0.75 + 0.25) / 2, 12);
    expect(m.sites[1]).toEqual({ qkv: 0, o: 0.5, gateup: 0, down: 0 });
  });

  it('refuses frames with different layer counts', () => {
    const one = { position: 0, tokenId: 1, layers: [taps(8, 4, () => 1)] };
    expect(() => meanFrameSparsity([frameSparsity(frame(0, [0, 0, 0, 1]), 'b1.58'), frameSparsity(one, 'b1.58')])).toThrow(/different layer counts \(expected 2\)/);
    expect(() => meanFrameSparsity([])).toThrow(/no frames/);
  });

  it('rounds to the display step without float noise', () => {
    expect(roundToStep(0.30149, 0.005)).toBe(0.3);
    expect(roundToStep(0.3026, 0.005)).toBe(0.305);
    expect(roundToStep(0.1 + 0.2, 0.1)).toBe(0.3);
  });
});

describe('series and export', () => {
  it('downsamples evenly and keeps the first and last points', () => {
    const d = downsample(Array.from({ length: 1000 }, (_, i) => i), 11);
    expect(d).toEqual([0, 100, 200, 300, 400, 500, 599, 699, 799, 899, 999]);
    expect(downsample([1, 2], 5)).toEqual([1, 2]);
  });

  it('writes one CSV row per bin and per stats record', () => {
    const hist = binValues([0, 0.1, 0.9], 0, 1, 2);
    const csv = histogramsCsv([{ position: 3, layer: 1, site: 'o', variant: 'pre-hadamard', hist }]);
    expect(csv).toBe('position,layer,site,variant,bin_lo,bin_hi,count\n3,1,o,pre-hadamard,0,0.5,2\n3,1,o,pre-hadamard,0.5,1,1\n');
    const st = statsCsv([{ position: 0, layer: 0, site: 'qkv', variant: 'quantizer-input', stats: vectorStats(Float32Array.of(1, -1)) }]);
    expect(st.split('\n')[0]).toMatch(/^position,layer,site,variant,absmax,absmean,kurtosis,sqnr_db_int4/);
    expect(st.split('\n')[1].split(',')).toHaveLength(13);
  });

  it('JSON turns typed arrays into arrays and infinities into strings', () => {
    expect(JSON.parse(toJson({ a: Float32Array.of(1, 2), b: Infinity }))).toEqual({ a: [1, 2], b: 'Infinity' });
  });
});
