// A plain float64 reference forward pass, written straight from docs/model-format.md ("Forward
// pass", "Schemes", "KV cache bits") for small models. It is the oracle the ONNX engine is tested
// against: clarity over speed (weights are unpacked to one int8 per weight).
import type { Experiment, KvBits, Site } from './api.js';
import { hadamardPlan, hadamardTransform } from './hadamard.js';
import { quantKv, quantizeSite, type Quantized } from './quant.js';
import { schemeUsesHadamard, siteQuantizer, type Scheme } from './scheme.js';
import { unpackTernary } from './ternary.js';
import type { BitLinearWeights, LayerWeights, ModelWeights } from './weights.js';
import type { ModelConfig } from './config.js';

/** The quantizer inputs of one layer for the last token (LayerTaps of api.ts, in float64). */
export interface LayerTapsF64 {
  qkv: Float64Array;
  o: Float64Array;
  gateup: Float64Array;
  down: Float64Array;
  oPreHadamard?: Float64Array;
  downPreHadamard?: Float64Array;
}

export interface ReferenceOptions {
  scheme: Scheme;
  kvBits: KvBits;
  /** engine/common/experiment.ts; 'v2-retrofit-w16a4' rotates W_o / W_down (rotatedWeights). */
  experiment?: Experiment;
}

/** The BOS (first) position's K and V are kept at 8 bits whenever the cache is quantized. */
export const KV_BOS_BITS = 8;

interface Linear {
  w: Int8Array;
  rows: number;
  cols: number;
  alpha: number;
  /** Full-precision weights replacing alpha * w (the v2 retrofit's rotated W_o / W_down). */
  full?: Float64Array;
}

const PROJ = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
type Layer = Record<(typeof PROJ)[number], Linear> & Pick<LayerWeights, 'inputNorm' | 'attnSubNorm' | 'postAttnNorm' | 'ffnSubNorm'>;

function unpack(b: BitLinearWeights): Linear {
  return { w: unpackTernary(b.packed, b.rows, b.cols), rows: b.rows, cols: b.cols, alpha: b.alpha };
}

/**
 * W Hᵀ for W = alpha * w, row by row: row r of W Hᵀ is H W[r]ᵀ, so (H x) · (W Hᵀ)[r] = W[r] · x
 * (HᵀH = I). In float64.
 */
export function rotatedWeights(b: BitLinearWeights): Float64Array {
  const w = unpackTernary(b.packed, b.rows, b.cols);
  const out = new Float64Array(b.rows * b.cols);
  for (let i = 0; i < out.length; i++) out[i] = b.alpha * w[i];
  for (let r = 0; r < b.rows; r++) hadamardTransform(out, b.cols, r * b.cols);
  return out;
}

/** RMSNorm(x) * weight = x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * inv * weight[i];
  return out;
}

/**
 * y = (x_q · w^T) * scale * alpha with the integer dot product (exact in float64), or, without
 * activation quantization (fp), y = (x · w^T) * alpha.
 */
function bitLinear(lin: Linear, x: Float64Array, xq: Quantized | null): Float64Array {
  const y = new Float64Array(lin.rows);
  const inp: ArrayLike<number> = xq ? xq.q : x;
  const post = (xq ? xq.scale : 1) * (lin.full ? 1 : lin.alpha);
  const w: ArrayLike<number> = lin.full ?? lin.w;
  for (let r = 0; r < lin.rows; r++) {
    let s = 0;
    const base = r * lin.cols;
    for (let c = 0; c < lin.cols; c++) s += inp[c] * w[base + c];
    y[r] = s * post;
  }
  return y;
}

/** Rotate-half RoPE on every head of `x` (in place) at position p. */
function rope(x: Float64Array, heads: number, headDim: number, p: number, theta: number): void {
  const half = headDim / 2;
  for (let j = 0; j < half; j++) {
    const angle = p * theta ** ((-2 * j) / headDim);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let h = 0; h < heads; h++) {
      const a = h * headDim + j;
      const x1 = x[a];
      const x2 = x[a + half];
      x[a] = x1 * cos - x2 * sin;
      x[a + half] = x2 * cos + x1 * sin;
    }
  }
}

export class ReferenceModel {
  readonly config: ModelConfig;
  readonly opts: ReferenceOptions;
  /** Per layer, the quantizer inputs of the last token of the last forward(). */
  lastTaps: LayerTapsF64[] = [];
  private readonly weights: ModelWeights;
  private readonly layers: Layer[];
  private readonly hadamard: boolean;
  /** Per layer, [position][kv head][head dim], already dequantized. */
  private kCache: Float64Array[] = [];
  private vCache: Float64Array[] = [];
  private pos = 0;

  constructor(weights: ModelWeights, opts: ReferenceOptions) {
    this.weights = weights;
    this.config = weights.config;
    this.opts = opts;
    const retrofit = opts.experiment === 'v2-retrofit-w16a4';
    this.hadamard = schemeUsesHadamard(opts.scheme) || retrofit;
    if (this.hadamard) {
      // Fail at construction with the width in the message, not in the middle of a forward pass.
      hadamardPlan(this.config.numHeads * this.config.headDim);
      hadamardPlan(this.config.intermediateSize);
    }
    this.layers = weights.layers.map((l) => {
      const layer = { inputNorm: l.inputNorm, attnSubNorm: l.attnSubNorm, postAttnNorm: l.postAttnNorm, ffnSubNorm: l.ffnSubNorm } as Layer;
      for (const p of PROJ) layer[p] = unpack(l[p]);
      if (retrofit) {
        layer.o.full = rotatedWeights(l.o);
        layer.down.full = rotatedWeights(l.down);
      }
      return layer;
    });
    this.reset();
  }

  /** Number of positions in the KV cache. */
  get position(): number {
    return this.pos;
  }

  reset(): void {
    const c = this.config;
    const size = c.maxPositionEmbeddings * c.numKvHeads * c.headDim;
    this.kCache = this.layers.map(() => new Float64Array(size));
    this.vCache = this.layers.map(() => new Float64Array(size));
    this.pos = 0;
    this.lastTaps = [];
  }

  private quant(site: Site, x: Float64Array): Quantized | null {
    return quantizeSite(siteQuantizer(this.opts.scheme, site), x);
  }

  /** Stores one position's K or V (all KV heads) into a cache, quantized per head. */
  private store(cache: Float64Array, p: number, x: Float64Array): void {
    const { numKvHeads, headDim } = this.config;
    const bits = this.opts.kvBits === 16 ? 16 : p === 0 ? KV_BOS_BITS : this.opts.kvBits;
    for (let h = 0; h < numKvHeads; h++) {
      const head = x.subarray(h * headDim, (h + 1) * headDim);
      const base = (p * numKvHeads + h) * headDim;
      if (bits === 16) {
        cache.set(head, base);
      } else {
        const { q, scale } = quantKv(head, bits);
        for (let i = 0; i < headDim; i++) cache[base + i] = q[i] * scale;
      }
    }
  }

  /** Runs the tokens (appending to the KV cache) and returns the logits of the last one. */
  forward(tokenIds: number[]): Float64Array {
    const c = this.config;
    if (tokenIds.length === 0) throw new RangeError('forward() needs at least one token');
    if (this.pos + tokenIds.length > c.maxPositionEmbeddings) {
      throw new RangeError(`context length ${c.maxPositionEmbeddings} exceeded: ${this.pos} cached + ${tokenIds.length} new tokens`);
    }
    const { hiddenSize: d, numHeads, numKvHeads, headDim } = c;
    const eps = c.rmsNormEps;
    const embed = this.weights.embed;
    const hs = tokenIds.map((id) => {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary (${c.vocabSize})`);
      return Float64Array.from(embed.subarray(id * d, (id + 1) * d));
    });
    const T = tokenIds.length;
    const last = T - 1;
    const taps: LayerTapsF64[] = [];
    const group = numHeads / numKvHeads;
    const attnWidth = numHeads * headDim;

    this.layers.forEach((L, li) => {
      const tap = {} as LayerTapsF64;
      const qs: Float64Array[] = [];
      // Q, K, V of every new token; K and V go into the cache before attention reads it.
      for (let t = 0; t < T; t++) {
        const x = rmsNorm(hs[t], L.inputNorm, eps);
        const xq = this.quant('qkv', x);
        const q = bitLinear(L.q, x, xq);
        const k = bitLinear(L.k, x, xq);
        const v = bitLinear(L.v, x, xq);
        rope(q, numHeads, headDim, this.pos + t, c.ropeTheta);
        rope(k, numKvHeads, headDim, this.pos + t, c.ropeTheta);
        this.store(this.kCache[li], this.pos + t, k);
        this.store(this.vCache[li], this.pos + t, v);
        qs.push(q);
        if (t === last) tap.qkv = x;
      }
      for (let t = 0; t < T; t++) {
        const p = this.pos + t; // causal: attend to positions 0..p
        const heads = new Float64Array(attnWidth);
        const scores = new Float64Array(p + 1);
        for (let h = 0; h < numHeads; h++) {
          const kvh = Math.floor(h / group);
          let max = -Infinity;
          for (let s = 0; s <= p; s++) {
            let dot = 0;
            const kb = (s * numKvHeads + kvh) * headDim;
            for (let i = 0; i < headDim; i++) dot += qs[t][h * headDim + i] * this.kCache[li][kb + i];
            scores[s] = dot / Math.sqrt(headDim);
            max = Math.max(max, scores[s]);
          }
          let sum = 0;
          for (let s = 0; s <= p; s++) sum += scores[s] = Math.exp(scores[s] - max);
          for (let s = 0; s <= p; s++) {
            const vb = (s * numKvHeads + kvh) * headDim;
            const wgt = scores[s] / sum;
            for (let i = 0; i < headDim; i++) heads[h * headDim + i] += wgt * this.vCache[li][vb + i];
          }
        }
        const a = rmsNorm(heads, L.attnSubNorm, eps);
        if (t === last && this.hadamard) tap.oPreHadamard = Float64Array.from(a);
        if (this.hadamard) hadamardTransform(a, attnWidth);
        if (t === last) tap.o = a;
        const o = bitLinear(L.o, a, this.quant('o', a));
        for (let i = 0; i < d; i++) hs[t][i] += o[i];

        const x = rmsNorm(hs[t], L.postAttnNorm, eps);
        const xq = this.quant('gateup', x);
        const g = bitLinear(L.gate, x, xq);
        const u = bitLinear(L.up, x, xq);
        const act = g.map((gv, i) => (c.activation === 'swiglu' ? gv / (1 + Math.exp(-gv)) : Math.max(gv, 0) ** 2) * u[i]);
        const m = rmsNorm(act, L.ffnSubNorm, eps);
        if (t === last) tap.gateup = x;
        if (t === last && this.hadamard) tap.downPreHadamard = Float64Array.from(m);
        if (this.hadamard) hadamardTransform(m, c.intermediateSize);
        if (t === last) tap.down = m;
        const down = bitLinear(L.down, m, this.quant('down', m));
        for (let i = 0; i < d; i++) hs[t][i] += down[i];
      }
      taps.push(tap);
    });
    this.pos += T;
    this.lastTaps = taps;

    const hn = rmsNorm(hs[last], this.weights.norm, eps);
    const E = this.weights.lmHead ?? embed;
    const logits = new Float64Array(c.vocabSize);
    for (let vi = 0; vi < c.vocabSize; vi++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += hn[i] * E[vi * d + i];
      logits[vi] = s;
    }
    return logits;
  }
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Greedy decoding from a fresh cache: exactly `steps` new tokens (EOS does not stop it). */
export function greedy(ref: ReferenceModel, promptIds: number[], steps: number): number[] {
  ref.reset();
  const out: number[] = [];
  let logits = ref.forward(promptIds);
  for (let s = 0; s < steps; s++) {
    const id = argmax(logits);
    out.push(id);
    if (s < steps - 1) logits = ref.forward([id]);
  }
  return out;
}
