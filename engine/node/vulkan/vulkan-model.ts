// VulkanModel: the forward pass on the GPU through the native addon's Vulkan backend
// (native/src/vulkan/). Same semantics as NativeCpuModel: forward(ids) appends to the KV cache
// (on the GPU) and returns the last token's logits. It runs b1.58, a4.8, v2-a8 and v2-a4 with a 16-bit
// KV cache and F16 embeddings; everything else is refused with an error naming what is missing.
// Results are float32 (the CPU backend quantizes from float64): logits and taps agree closely, not bitwise.
import type { KvBits, LayerTaps, TapFrame } from '../../common/api.js';
import { SITES } from '../../common/api.js';
import type { Experiment } from '../../common/experiment.js';
import { schemeUsesHadamard, siteQuantizer, type Scheme } from '../../common/scheme.js';
import type { ModelWeights } from '../../common/weights.js';
import { requireNativeAddon } from '../native/addon.js';

export const VULKAN_SCHEMES = ['b1.58', 'a4.8', 'v2-a8', 'v2-a4'] as const satisfies readonly Scheme[];

/**
 * GPU time from timestamp queries, summed over steps (kernelsMs only with profile on, decode steps
 * only); host time from each submission to its fence (GPU time + submission and wake-up latency) and
 * for copying the logits out of the read-back buffer. steps: tokens run; submissions: command
 * buffers submitted (one per decode step or prompt chunk); dispatches: compute dispatches in them.
 */
export interface VulkanGpuTimes {
  totalMs: number;
  steps: number;
  submissions: number;
  dispatches: number;
  submitWaitMs: number;
  readbackMs: number;
  kernelsMs: Record<string, number>;
}

interface VulkanModelHandle {
  forward(ids: Int32Array): Float32Array;
  taps(): LayerTaps[];
  reset(): void;
  gpuTimes(): VulkanGpuTimes;
  dispose(): void;
  readonly position: number;
  readonly device: { name: string; type: string };
  readonly weightBytesPerToken: number;
}

type VulkanCtor = new (spec: object, run: object) => VulkanModelHandle;

export interface VulkanRunRequest {
  scheme: Scheme;
  kvBits: KvBits;
  taps?: boolean;
  experiment?: Experiment;
}

/** Why the Vulkan backend cannot run this (null when it can). */
export function vulkanUnsupported(run: VulkanRunRequest): string | null {
  const why: string[] = [];
  if (!(VULKAN_SCHEMES as readonly string[]).includes(run.scheme)) why.push(`scheme ${run.scheme} (it runs ${VULKAN_SCHEMES.join(', ')})`);
  if (run.kvBits !== 16) why.push(`a ${run.kvBits}-bit KV cache (it keeps the cache in float32: kv bits 16)`);
  if (run.experiment) why.push(`experiment ${run.experiment}`);
  return why.length ? `the vulkan device does not support ${why.join(', ')}` : null;
}

export interface VulkanOptions extends VulkanRunRequest {
  /** A GPU timestamp after every dispatch: per-kernel times in gpuTimes() (benchmarks). */
  profile?: boolean;
  /** Workgroups per attention head over ranges of positions, 1..64 (default: chosen for the device). Tests. */
  attentionSplits?: number;
  /** Rows per subgroup in the ternary GEMV: 1, 2 or 4 (default: chosen for the device). Tests, benchmarks. */
  gemvRows?: number;
  /** Prompt tokens per batched chunk, 2..64 (default 32), or 1: token by token. Tests, benchmarks. */
  prefillChunk?: number;
}

export class VulkanModel {
  readonly scheme: Scheme;
  private readonly tapsOn: boolean;
  private handle: VulkanModelHandle | undefined;

  /** Throws a RangeError for what the backend cannot run, an Error when Vulkan is unavailable. */
  constructor(weights: ModelWeights, opts: VulkanOptions) {
    const unsupported = vulkanUnsupported(opts);
    if (unsupported) throw new RangeError(unsupported);
    if (!weights.embedF16 || (!weights.config.tieWordEmbeddings && !weights.lmHeadF16)) {
      throw new RangeError('the vulkan device needs the embedding and LM head stored as F16 (this model stores F32)');
    }
    const Ctor = (requireNativeAddon() as unknown as { VulkanModel?: VulkanCtor }).VulkanModel;
    if (!Ctor) throw new Error('the native addon has no Vulkan backend (rebuild it: npm run build:native)');
    const spec = {
      ...weights.config,
      embedF16: weights.embedF16,
      lmHeadF16: weights.config.tieWordEmbeddings ? undefined : weights.lmHeadF16,
      norm: weights.norm,
      layers: weights.layers,
    };
    const run = {
      sites: SITES.map((s) => siteQuantizer(opts.scheme, s)),
      hadamard: schemeUsesHadamard(opts.scheme),
      profile: opts.profile ?? false,
      attentionSplits: opts.attentionSplits,
      gemvRows: opts.gemvRows,
      prefillChunk: opts.prefillChunk,
      taps: opts.taps ?? false,
    };
    this.handle = new Ctor(spec, run);
    this.scheme = opts.scheme;
    this.tapsOn = run.taps;
  }

  private live(): VulkanModelHandle {
    if (!this.handle) throw new Error('the Vulkan model was disposed');
    return this.handle;
  }

  /**
   * Runs the tokens after the cached ones and returns the last one's logits: one token is a decode
   * step; a prompt runs in chunks of prefillChunk tokens (one GPU submission each).
   */
  forward(tokenIds: number[] | Int32Array): Float32Array {
    if (tokenIds.length === 0) throw new RangeError('forward() needs at least one token');
    for (const id of tokenIds) if (!Number.isInteger(id)) throw new RangeError(`token id ${id} is not an integer`);
    return this.live().forward(tokenIds instanceof Int32Array ? tokenIds : Int32Array.from(tokenIds));
  }

  /**
   * One engine step (engine.ts StepOutput): forward() plus, with taps on, the last token's TapFrame
   * (the shaders' float32 quantizer inputs; NativeCpuModel.step's layout).
   */
  step(tokenIds: number[]): { logits: Float32Array; taps?: TapFrame } {
    const logits = this.forward(tokenIds);
    if (!this.tapsOn) return { logits };
    return { logits, taps: { position: this.position - 1, tokenId: tokenIds[tokenIds.length - 1], layers: this.live().taps() } };
  }

  /** Per layer, the quantizer inputs of the last token of the last forward() (empty with taps off). */
  get lastTaps(): LayerTaps[] {
    return this.live().taps();
  }

  reset(): void {
    this.live().reset();
  }

  get position(): number {
    return this.live().position;
  }

  /** The GPU in use: its name and type (discrete, integrated, virtual, cpu). */
  get device(): { name: string; type: string } {
    return this.live().device;
  }

  /** Bytes of weights one decode step reads as stored on the GPU (ternary words + F16 LM head). */
  get weightBytesPerToken(): number {
    return this.live().weightBytesPerToken;
  }

  gpuTimes(): VulkanGpuTimes {
    return this.live().gpuTimes();
  }

  /** Frees the GPU memory now (otherwise when the object is collected). */
  dispose(): void {
    this.handle?.dispose();
    this.handle = undefined;
  }
}
