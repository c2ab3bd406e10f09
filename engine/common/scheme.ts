// Quantization schemes of the engine, as defined in ../shared/spec/bitnet.md and docs/model-format.md.
import type { Site } from './api.js';

export const SCHEMES = ['fp', 'b1.58', 'a4.8', 'v2-a8', 'v2-a4'] as const;
export type Scheme = (typeof SCHEMES)[number];

/** Activation quantizer at a linear input (docs/model-format.md, "Schemes"). */
export type SiteQuantizer = 'none' | 'int8' | 'int4' | 'int8-top50';

const SITE_QUANTIZERS: Record<Scheme, Record<Site, SiteQuantizer>> = {
  fp: { qkv: 'none', o: 'none', gateup: 'none', down: 'none' },
  'b1.58': { qkv: 'int8', o: 'int8', gateup: 'int8', down: 'int8' },
  'a4.8': { qkv: 'int4', o: 'int8-top50', gateup: 'int4', down: 'int8' },
  'v2-a8': { qkv: 'int8', o: 'int8', gateup: 'int8', down: 'int8' },
  'v2-a4': { qkv: 'int4', o: 'int4', gateup: 'int4', down: 'int4' },
};

export function siteQuantizer(scheme: Scheme, site: Site): SiteQuantizer {
  return SITE_QUANTIZERS[scheme][site];
}

/** BitNet v2 (H-BitLinear): Hadamard transform of the W_o and W_down inputs. */
export function schemeUsesHadamard(scheme: Scheme): boolean {
  return scheme === 'v2-a8' || scheme === 'v2-a4';
}
