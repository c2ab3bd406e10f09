// Export of the inspector's current token: histograms and per-layer statistics of every site.
import type { Scheme, TapFrame } from '../../../engine/common/api.js';
import { histogramsCsv, statsCsv, toJson, type HistogramRecord, type StatsRecord } from '../data/exportData.js';
import { binValues, sharedRange } from '../data/histogram.js';
import { cachedVectorStats } from '../data/siteStats.js';
import { siteViews } from '../data/siteViews.js';
import { HIST_BINS } from './HistogramCanvas.js';

function variants(view: ReturnType<typeof siteViews>[number]) {
  if (view.pre && view.post) {
    return [
      { variant: 'pre-hadamard', values: view.pre },
      { variant: view.postComputed ? 'post-hadamard-computed' : 'post-hadamard', values: view.post },
    ];
  }
  return [{ variant: 'quantizer-input', values: view.input }];
}

export function frameRecords(frame: TapFrame, scheme: Scheme, layers?: readonly number[]) {
  const hist: HistogramRecord[] = [];
  const stats: StatsRecord[] = [];
  frame.layers.forEach((taps, layer) => {
    if (layers && !layers.includes(layer)) return;
    for (const view of siteViews(taps, scheme)) {
      const vs = variants(view);
      const range = sharedRange(vs.map((v) => v.values));
      for (const { variant, values } of vs) {
        hist.push({ position: frame.position, layer, site: view.site, variant, hist: binValues(values, -range, range, HIST_BINS) });
        stats.push({ position: frame.position, layer, site: view.site, variant, stats: cachedVectorStats(values) });
      }
    }
  });
  return { hist, stats };
}

export function inspectorExports(frame: TapFrame, scheme: Scheme, layer: number) {
  const selected = frameRecords(frame, scheme, [layer]);
  const all = frameRecords(frame, scheme);
  return {
    histogramsCsv: () => histogramsCsv(selected.hist),
    statsCsv: () => statsCsv(all.stats),
    json: () =>
      toJson({
        scheme,
        position: frame.position,
        tokenId: frame.tokenId,
        layerStats: all.stats,
        histograms: selected.hist.map((h) => ({ ...h, hist: { ...h.hist, counts: h.hist.counts } })),
      }),
  };
}
