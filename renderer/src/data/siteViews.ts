// What the inspector shows per site of a layer: the quantizer input, and for W_o / W_down the
// vector before the Hadamard transform next to the one after it. For schemes without the
// transform the "after" vector is computed here (what H-BitLinear would quantize), so the
// before/after difference is visible on any model.
import type { LayerTaps, Scheme, Site } from '../../../engine/common/api.js';
import { hadamardPlan, hadamardTransform } from '../../../engine/common/hadamard.js';
import { schemeUsesHadamard } from '../../../engine/common/scheme.js';

export interface SiteView {
  site: Site;
  /** The vector the scheme's quantizer reads. */
  input: Float32Array;
  /** Only for o / down: the vector before the Hadamard transform, and the one after it. */
  pre?: Float32Array;
  post?: Float32Array;
  /** True when `post` was computed by the renderer (scheme without the transform). */
  postComputed?: boolean;
}

const rotated = new WeakMap<Float32Array, Float32Array | null>();

/** H_n x for a tap vector, memoised on its identity; null when the width has no construction. */
export function hadamardOf(x: Float32Array): Float32Array | null {
  let r = rotated.get(x);
  if (r === undefined) {
    try {
      hadamardPlan(x.length);
      r = Float32Array.from(x);
      hadamardTransform(r, r.length);
    } catch {
      r = null;
    }
    rotated.set(x, r);
  }
  return r;
}

export function siteViews(taps: LayerTaps, scheme: Scheme): SiteView[] {
  const had = schemeUsesHadamard(scheme);
  const rot = (site: 'o' | 'down', pre: Float32Array | undefined): SiteView => {
    const input = taps[site];
    if (had) return { site, input, pre, post: input };
    const post = hadamardOf(input);
    return post ? { site, input, pre: input, post, postComputed: true } : { site, input };
  };
  return [
    { site: 'qkv', input: taps.qkv },
    rot('o', taps.oPreHadamard),
    { site: 'gateup', input: taps.gateup },
    rot('down', taps.downPreHadamard),
  ];
}
