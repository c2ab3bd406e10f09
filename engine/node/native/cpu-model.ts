// NativeCpuModel: the forward pass of ReferenceModel (engine/common/reference.ts) on the native
// kernels, for CPU decoding. Same semantics: forward(tokenIds) appends to the KV cache and returns
// the logits of the last token; reset() empties the cache; lastTaps holds the quantizer inputs of
// the last token when taps are on. Quantized codes and integer sums are exactly the reference's;
// attention and the LM head run in float32, so logits match to rounding.
import { availableParallelism } from 'node:os';
import type { KvBits, LayerTaps, Site, TapFrame } from '../../common/api.js';
import { SITES } from '../../common/api.js';
import { schemeUsesHadamard, siteQuantizer, type Scheme } from '../../common/scheme.js';
import type { ModelWeights } from '../../common/weights.js';
import type { LogitsNeed } from '../../common/lm-head-screen.js';
import type { LmHeadStats } from '../step-runner.js';
import {
  checkIsa,
  requireNativeAddon,
  type NativeIsa,
  type NativeLayerTaps,
  type NativeLmHeadMode,
  type NativeModelHandle,
  type NativeProfile,
} from './addon.js';

export const LM_HEADS = ['screened', 'full'] as const;
/** 'screened': an int8 copy of the head (+1 byte per weight) screens the rows a `need` asks for; 'full': every row in F16. */
export type LmHeadChoice = (typeof LM_HEADS)[number];

/** `value` as an LmHeadChoice; a RangeError naming `what` and the accepted values otherwise. */
export function checkLmHead(value: string, what = 'lmHead'): LmHeadChoice {
  if (!(LM_HEADS as readonly string[]).includes(value)) throw new RangeError(`unknown ${what} ${JSON.stringify(value)} (expected one of ${LM_HEADS.join(', ')})`);
  return value as LmHeadChoice;
}

export interface NativeCpuOptions {
  scheme: Scheme;
  kvBits: KvBits;
  /** Worker threads including the caller's (default: all cores). */
  threads?: number;
  /** Kernel path (default: the fastest this CPU supports). */
  isa?: NativeIsa;
  /** Keep the quantizer inputs of the last token of every forward() (inspector). */
  taps?: boolean;
  /** LM head (default 'screened'; it only acts on forward() calls given a LogitsNeed). */
  lmHead?: LmHeadChoice;
  /** How the screened head computes its approximate logits (default: int8 on avx512, else f32). Benchmarks. */
  lmHeadMode?: NativeLmHeadMode;
}

export class NativeCpuModel {
  readonly scheme: Scheme;
  readonly kvBits: KvBits;
  private readonly handle: NativeModelHandle;
  private readonly tapsOn: boolean;

  constructor(weights: ModelWeights, opts: NativeCpuOptions) {
    const addon = requireNativeAddon();
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be an integer in 1..256, got ${threads}`);
    const c = weights.config;
    const spec = {
      ...c,
      // The F16 bits when the file has them (half the memory traffic of the LM head); else float32.
      embedF16: weights.embedF16,
      embed: weights.embedF16 ? undefined : weights.embed,
      lmHeadF16: weights.lmHeadF16,
      lmHead: weights.lmHeadF16 ? undefined : weights.lmHead,
      norm: weights.norm,
      layers: weights.layers,
    };
    const run = {
      sites: SITES.map((s: Site) => siteQuantizer(opts.scheme, s)),
      hadamard: schemeUsesHadamard(opts.scheme),
      kvBits: opts.kvBits,
      threads,
      isa: opts.isa === undefined ? undefined : checkIsa(opts.isa),
      taps: opts.taps ?? false,
      lmHead: checkLmHead(opts.lmHead ?? 'screened'),
      lmHeadMode: opts.lmHeadMode,
    };
    this.handle = new addon.NativeModel(spec, run);
    this.scheme = opts.scheme;
    this.kvBits = opts.kvBits;
    this.tapsOn = run.taps;
  }

  /**
   * Runs the tokens after the cached ones and returns the logits of the last token. With `need`
   * and the screened head, only the rows the sampler can pick are exact (bit-identical to the full
   * head) and the others are -Infinity; without it, every logit.
   */
  forward(tokenIds: number[] | Int32Array, need?: LogitsNeed): Float32Array {
    if (tokenIds.length === 0) throw new RangeError('forward() needs at least one token');
    for (const id of tokenIds) if (!Number.isInteger(id)) throw new RangeError(`token id ${id} is not an integer`);
    const ids = tokenIds instanceof Int32Array ? tokenIds : Int32Array.from(tokenIds);
    if (!need) return this.handle.forward(ids);
    return this.handle.forward(ids, { k: need.k, penalty: need.repetitionPenalty, context: Int32Array.from(need.context) });
  }

  /**
   * One engine step (engine.ts StepOutput): forward() plus, with taps on, the last token's TapFrame
   * in float32 as the inspector consumes it.
   */
  step(tokenIds: number[], need?: LogitsNeed): { logits: Float32Array; taps?: TapFrame } {
    const logits = this.forward(tokenIds, need);
    if (!this.tapsOn) return { logits };
    const f32 = (x: Float64Array | undefined) => (x ? Float32Array.from(x) : undefined);
    const layers = this.handle.taps().map((t) => {
      const l: LayerTaps = { qkv: f32(t.qkv)!, o: f32(t.o)!, gateup: f32(t.gateup)!, down: f32(t.down)! };
      if (t.oPreHadamard) l.oPreHadamard = f32(t.oPreHadamard);
      if (t.downPreHadamard) l.downPreHadamard = f32(t.downPreHadamard);
      return l;
    });
    return { logits, taps: { position: this.position - 1, tokenId: tokenIds[tokenIds.length - 1], layers } };
  }

  reset(): void {
    this.handle.reset();
  }

  /** Number of positions in the KV cache. */
  get position(): number {
    return this.handle.position;
  }

  /** Per layer, the quantizer inputs of the last token of the last forward() (empty with taps off). */
  get lastTaps(): NativeLayerTaps[] {
    return this.tapsOn ? this.handle.taps() : [];
  }

  /** The kernel path in use. */
  get isa(): NativeIsa {
    return this.handle.isa;
  }

  get threads(): number {
    return this.handle.threads;
  }

  /** Milliseconds spent per phase (quantizers, ternary products, attention, LM head, rest) so far. */
  get profile(): NativeProfile {
    return this.handle.profile();
  }

  /** The screened LM head's counters (undefined with lmHead 'full'). */
  get headStats(): LmHeadStats | undefined {
    return this.handle.headStats() ?? undefined;
  }

  /** Bytes of ternary weights in the kernel layout. */
  get weightBytes(): number {
    return this.handle.weightBytes;
  }
}
