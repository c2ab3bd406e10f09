// Quantization error of a scheme at each site of each layer: SQNR of the scheme's own quantizer.
import type { Scheme, Site, TapFrame } from '../../../engine/common/api.js';
import { SITES } from '../../../engine/common/api.js';
import { dequantize, quantizeSite } from '../../../engine/common/quant.js';
import { siteQuantizer } from '../../../engine/common/scheme.js';
import { sqnrDb } from './stats.js';

/** SQNR (dB) of the scheme's quantizer on x; null where the scheme does not quantize the site. */
export function schemeSqnrDb(scheme: Scheme, site: Site, x: Float32Array): number | null {
  const r = quantizeSite(siteQuantizer(scheme, site), x);
  return r ? sqnrDb(x, dequantize(r)) : null;
}

/**
 * Per layer, per site: SQNR averaged in dB over the frames (infinite values — exact
 * reconstruction — are skipped so one all-zero vector does not dominate).
 */
export function layerSqnr(frames: readonly TapFrame[], scheme: Scheme): Record<Site, number | null>[] {
  const layers = frames[0]?.layers.length ?? 0;
  const out: Record<Site, number | null>[] = [];
  for (let l = 0; l < layers; l++) {
    const row = {} as Record<Site, number | null>;
    for (const site of SITES) {
      let sum = 0;
      let n = 0;
      for (const f of frames) {
        const v = schemeSqnrDb(scheme, site, f.layers[l][site]);
        if (v !== null && Number.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      row[site] = n ? sum / n : null;
    }
    out.push(row);
  }
  return out;
}
