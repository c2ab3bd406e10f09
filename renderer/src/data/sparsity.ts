// Activation and weight sparsity (BitNet a4.8, Table 2): which parameters a token actually needs.
import type { LayerTaps, ProjectionStats, Scheme, Site, TapFrame } from '../../../engine/common/api.js';
import { SITES } from '../../../engine/common/api.js';
import { quantizeSite } from '../../../engine/common/quant.js';
import { schemeUsesHadamard, siteQuantizer } from '../../../engine/common/scheme.js';

export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

type Row = Float32Array | Float64Array;

export function zeroFraction(x: ArrayLike<number>): number {
  if (x.length === 0) return 0;
  let z = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === 0) z++;
  return z / x.length;
}

/** Fraction of exact zeros after the scheme's quantizer at a site (raw zeros for 'none'). */
export function quantizedZeroFraction(kind: Parameters<typeof quantizeSite>[0], x: Row): number {
  const r = quantizeSite(kind, x);
  return zeroFraction(r ? r.q : x);
}

/**
 * Per-projection input sparsity of one layer for one token. q, k, v and gate read the same
 * quantized input; up only has to run where the gate output is non-zero, so its sparsity is
 * 1 - (1 - s_in)(1 - s_gate_out) (a4.8). Zero gate outputs show up as exact zeros of the
 * W_down input before the Hadamard transform (SubLN only rescales channels).
 */
export function layerActivationSparsity(taps: LayerTaps, scheme: Scheme): Record<Projection, number> {
  const sIn = quantizedZeroFraction(siteQuantizer(scheme, 'qkv'), taps.qkv);
  const sO = quantizedZeroFraction(siteQuantizer(scheme, 'o'), taps.o);
  const sGate = quantizedZeroFraction(siteQuantizer(scheme, 'gateup'), taps.gateup);
  const preDown = schemeUsesHadamard(scheme) ? (taps.downPreHadamard ?? taps.down) : taps.down;
  const sGateOut = zeroFraction(preDown);
  const sDown = quantizedZeroFraction(siteQuantizer(scheme, 'down'), taps.down);
  return { q: sIn, k: sIn, v: sIn, o: sO, gate: sGate, up: 1 - (1 - sGate) * (1 - sGateOut), down: sDown };
}

export interface SparsitySummary {
  /** Per projection, parameter-weighted over layers. */
  byProjection: Record<Projection, number>;
  /** Parameter-weighted activation sparsity over all projections (a4.8's "overall"). */
  overall: number;
  /** Share of ternary weights that are exactly zero, parameter-weighted. */
  weightZeros: number;
  /** Share of parameters a token needs: input not zero (and, last, weight not zero either). */
  activeShare: number;
  activeNonZeroShare: number;
  totalParams: number;
}

/** Combines per-layer activation sparsity with the model's projections (ModelInfo.projections). */
export function summarizeSparsity(
  perLayer: readonly Record<Projection, number>[],
  projections: readonly Record<string, ProjectionStats>[],
): SparsitySummary {
  const num = Object.fromEntries(PROJECTIONS.map((p) => [p, 0])) as Record<Projection, number>;
  const den = Object.fromEntries(PROJECTIONS.map((p) => [p, 0])) as Record<Projection, number>;
  let total = 0;
  let sparse = 0;
  let wz = 0;
  let activeNz = 0;
  const layers = Math.min(perLayer.length, projections.length);
  for (let l = 0; l < layers; l++) {
    for (const p of PROJECTIONS) {
      const proj = projections[l][p];
      if (!proj) continue;
      const params = proj.rows * proj.cols;
      const s = perLayer[l][p];
      num[p] += params * s;
      den[p] += params;
      total += params;
      sparse += params * s;
      wz += params * proj.zeroFraction;
      // Ternary zeros are independent of which inputs are zero, so the shares multiply.
      activeNz += params * (1 - s) * (1 - proj.zeroFraction);
    }
  }
  const byProjection = Object.fromEntries(PROJECTIONS.map((p) => [p, den[p] ? num[p] / den[p] : 0])) as Record<Projection, number>;
  return {
    byProjection,
    overall: total ? sparse / total : 0,
    weightZeros: total ? wz / total : 0,
    activeShare: total ? 1 - sparse / total : 0,
    activeNonZeroShare: total ? activeNz / total : 0,
    totalParams: total,
  };
}

/** Per layer: input sparsity of each projection and zeros after the quantizer at each site. */
export interface FrameSparsity {
  perLayer: Record<Projection, number>[];
  sites: Record<Site, number>[];
}

// A frame's taps never change, so each frame is quantized once per scheme, not at every refresh.
const frameCache = new WeakMap<TapFrame, Map<Scheme, FrameSparsity>>();

export function frameSparsity(frame: TapFrame, scheme: Scheme): FrameSparsity {
  let byScheme = frameCache.get(frame);
  if (!byScheme) frameCache.set(frame, (byScheme = new Map()));
  let r = byScheme.get(scheme);
  if (!r) {
    r = {
      perLayer: frame.layers.map((l) => layerActivationSparsity(l, scheme)),
      sites: frame.layers.map((l) => Object.fromEntries(SITES.map((s) => [s, quantizedZeroFraction(siteQuantizer(scheme, s), l[s])])) as Record<Site, number>),
    };
    byScheme.set(scheme, r);
  }
  return r;
}

/** The mean over frames (all with the same number of layers), per layer. */
export function meanFrameSparsity(frames: readonly FrameSparsity[]): FrameSparsity {
  if (!frames.length) throw new Error('meanFrameSparsity: no frames');
  const layers = frames[0].perLayer.length;
  if (frames.some((f) => f.perLayer.length !== layers)) throw new Error(`meanFrameSparsity: frames with different layer counts (expected ${layers})`);
  const mean = <K extends string>(keys: readonly K[], pick: (f: FrameSparsity, l: number) => Record<K, number>) =>
    Array.from({ length: layers }, (_, l) => {
      const acc = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
      for (const f of frames) for (const k of keys) acc[k] += pick(f, l)[k] / frames.length;
      return acc;
    });
  return { perLayer: mean(PROJECTIONS, (f, l) => f.perLayer[l]), sites: mean(SITES, (f, l) => f.sites[l]) };
}

/** `v` rounded to a multiple of `step` (what a chart can show), without float noise like 0.30000000000000004. */
export function roundToStep(v: number, step: number): number {
  return Number((Math.round(v / step) * step).toFixed(10));
}
