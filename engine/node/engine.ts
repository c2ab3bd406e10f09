// The engine: loads a model folder, picks a step runner for the run options (ONNX Runtime on the
// requested device, falling back to the CPU with the reason; on the CPU the native kernels or ONNX
// Runtime, cpuBackend) and generates with sampling, stop conditions, cancellation, streaming stats
// and taps, the same loop for every runner.
import {
  DEVICES,
  KV_BITS,
  type Engine,
  type GenerationInput,
  type GenerationResult,
  type GenerationStep,
  type ModelInfo,
  type RunOptions,
  type SamplingOptions,
  type StepStats,
} from '../common/api.js';
import { configToJson, type ModelConfig } from '../common/config.js';
import { sampleToken, seededRandom, validateSampling } from '../common/sampling.js';
import { logitsNeed } from '../common/lm-head-screen.js';
import { EXPERIMENTS, experimentNote } from '../common/experiment.js';
import { SCHEMES } from '../common/scheme.js';
import type { ModelWeights } from '../common/weights.js';
import { chooseDevice, type Backend } from './backends.js';
import type { MatMulMode } from './graph/ops.js';
import type { Target } from './graph/onnx-builder.js';
import { kvCacheBytes } from './kv-cache.js';
import { loadModelDir } from './model-dir.js';
import { projectionStats, weightBytes } from './model-info.js';
import { loadNativeAddon } from './native/addon.js';
import { checkLmHead, type LmHeadChoice } from './native/cpu-model.js';
import { NativeStepRunner, nativeUnsupported } from './native/native-runner.js';
import { compileFor, openOrtRunner } from './ort-runner.js';
import { vulkanUnsupported } from './vulkan/vulkan-model.js';
import { VulkanStepRunner } from './vulkan/vulkan-runner.js';
import type { LmHeadStats, StepOutput, StepRunner } from './step-runner.js';
import { TextCodec } from './tokenizer.js';
import { StreamingText } from './streaming-text.js';

export type { LmHeadStats, StepOutput, StepRunner } from './step-runner.js';

export const CPU_BACKENDS = ['auto', 'ort', 'native'] as const;
export type CpuBackend = (typeof CPU_BACKENDS)[number];

/** Throws a RangeError naming the bad field and the accepted values. */
export function validateRunOptions(run: RunOptions): void {
  if (!run || typeof run !== 'object') throw new TypeError('run options must be an object');
  if (!(SCHEMES as readonly string[]).includes(run.scheme)) throw new RangeError(`unknown scheme ${JSON.stringify(run.scheme)} (expected one of ${SCHEMES.join(', ')})`);
  if (!(KV_BITS as readonly number[]).includes(run.kvBits)) throw new RangeError(`unsupported kv bits ${JSON.stringify(run.kvBits)} (expected one of ${KV_BITS.join(', ')})`);
  if (!(DEVICES as readonly string[]).includes(run.device)) throw new RangeError(`unknown device ${JSON.stringify(run.device)} (expected one of ${DEVICES.join(', ')})`);
  if (typeof run.taps !== 'boolean') throw new TypeError('run.taps must be true or false');
  if (run.experiment !== undefined && !(EXPERIMENTS as readonly string[]).includes(run.experiment)) {
    throw new RangeError(`unknown experiment ${JSON.stringify(run.experiment)} (expected one of ${EXPERIMENTS.join(', ')})`);
  }
}

export interface EngineOptions {
  /** Session config entries (`SessionOptions.extra`), e.g. { 'mlas.use_lut_gemm': '1' } for benchmarks. */
  sessionConfig?: Record<string, string>;
  /** Intra-op threads of ONNX Runtime / worker threads of the native kernels (default: all cores). */
  threads?: number;
  /**
   * How the ternary matmuls run (graph/ops.ts MatMulMode). Default: 'int8-exact' on the CPU (int8
   * kernels, exact through the sentinel layout), 'fp32' on GPU backends.
   */
  matmul?: MatMulMode;
  /** Graph variant (compile.ts CompileOptions.target); default: 'gpu' for GPU backends. For tests. */
  graphTarget?: Target;
  /**
   * Large initializers as ONNX external data in a temp folder (compile.ts CompileOptions.externalData):
   * default 'auto' (models over protobuf's 2 GB), true to force it (tests).
   */
  externalData?: 'auto' | boolean;
  /**
   * What runs on the CPU (device cpu, requested or fallen back to): 'native' the native kernels
   * (native/; decodes 2-6x faster than ONNX Runtime here, docs/benchmarks.md), 'ort' ONNX Runtime, 'auto' (default)
   * native when the addon loads and supports the run, else ONNX Runtime with the reason in deviceNote.
   */
  cpuBackend?: CpuBackend;
  /**
   * LM head of the native CPU backend during generation: 'screened' (default) computes int8
   * approximate logits with rigorous bounds and re-scores in F16 only the rows the sampler can pick
   * (same tokens as 'full'; +1 byte per head weight of memory), 'full' every row in F16. forward()
   * always returns every logit. Other backends ignore it.
   */
  lmHead?: LmHeadChoice;
}

const now = () => performance.now();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Options of generateFromIds beyond SamplingOptions (benchmarks). */
export interface RawGenerationOptions {
  /** Keep generating past EOS (fixed-length benchmark runs). */
  ignoreEos?: boolean;
}

/** The engine as createEngine returns it: the Engine interface plus generation from token ids. */
export interface NodeEngine extends Engine {
  /**
   * One step on `ids` after the cached tokens (`fresh`: empty the cache first): the logits of
   * the last token and, with taps on, its TapFrame. For tests, evaluation and golden checks.
   */
  forward(ids: number[], fresh?: boolean): Promise<StepOutput>;
  generateFromIds(prompt: number[], sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal, raw?: RawGenerationOptions): Promise<GenerationResult>;
  /** The screened LM head's counters since the engine opened (undefined when it has none). Benchmarks. */
  lmHeadStats(): LmHeadStats | undefined;
}

class StepEngine implements NodeEngine {
  private busy = false;

  constructor(
    readonly info: ModelInfo,
    private readonly config: ModelConfig,
    private readonly runner: StepRunner,
    private readonly codec: TextCodec,
  ) {}

  async forward(ids: number[], fresh = false): Promise<StepOutput> {
    if (this.busy) throw new Error('the engine is already generating (one generation at a time)');
    const c = this.config;
    if (fresh) this.runner.reset();
    if (ids.length === 0) throw new RangeError('forward() needs at least one token');
    const bad = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= c.vocabSize);
    if (bad !== undefined) throw new RangeError(`token id ${bad} is outside the vocabulary (0..${c.vocabSize - 1})`);
    if (this.runner.length + ids.length > this.info.contextLength) {
      throw new RangeError(`${this.runner.length} cached + ${ids.length} new tokens exceed the context of ${this.info.contextLength} tokens`);
    }
    return this.runner.step(ids);
  }

  async generate(input: GenerationInput, sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal): Promise<GenerationResult> {
    validateSampling(sampling);
    return this.generateFromIds(this.codec.encodeInput(input), sampling, onStep, signal);
  }

  async generateFromIds(prompt: number[], sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal, raw: RawGenerationOptions = {}): Promise<GenerationResult> {
    validateSampling(sampling);
    const c = this.config;
    const ctx = this.info.contextLength;
    if (prompt.length === 0) throw new RangeError('the prompt has no tokens');
    const bad = prompt.find((t) => !Number.isInteger(t) || t < 0 || t >= c.vocabSize);
    if (bad !== undefined) throw new RangeError(`token id ${bad} is outside the vocabulary (0..${c.vocabSize - 1})`);
    if (prompt.length > ctx) {
      throw new RangeError(`prompt is ${prompt.length} tokens, longer than the context of ${ctx} tokens of model "${this.info.name}"`);
    }
    if (this.busy) throw new Error('the engine is already generating (one generation at a time)');
    this.busy = true;
    try {
      this.runner.reset();
      const random = seededRandom(sampling.seed ?? Math.floor(Math.random() * 2 ** 32));
      const context = [...prompt];
      const generated: number[] = [];
      const text = new StreamingText(sampling.stop);
      const t0 = now();
      let tFirst = t0;
      const stats = (phase: StepStats['phase']): StepStats => {
        const t = now();
        const kvb = kvCacheBytes(c, this.info.run.kvBits, this.runner.length);
        const prefillMs = tFirst - t0;
        return {
          phase,
          promptTokens: prompt.length,
          generatedTokens: generated.length,
          timeToFirstTokenMs: prefillMs,
          prefillTokensPerSec: prefillMs > 0 ? (prompt.length / prefillMs) * 1000 : 0,
          decodeTokensPerSec: generated.length > 1 && t > tFirst ? ((generated.length - 1) / (t - tFirst)) * 1000 : 0,
          rssBytes: process.memoryUsage.rss(),
          kvCacheBytes: kvb.bytes,
          kvCacheBytesFp16: kvb.fp16,
        };
      };
      const finish = (finishReason: GenerationResult['finishReason']): GenerationResult => ({
        text: text.final(),
        tokenIds: generated,
        finishReason,
        stats: stats(generated.length <= 1 ? 'prefill' : 'decode'),
      });

      if (signal?.aborted) return finish('cancelled');
      let out = await this.runner.step(prompt, logitsNeed(sampling, context));
      tFirst = now();
      for (;;) {
        if (signal?.aborted) return finish('cancelled');
        const tokenId = sampleToken(out.logits, sampling, context, random);
        generated.push(tokenId);
        context.push(tokenId);
        const isEos = !raw.ignoreEos && c.eosTokenIds.includes(tokenId);
        const delta = isEos ? text.flush() : text.push(this.codec.decode(generated));
        const step: GenerationStep = { tokenId, text: delta, stats: stats(generated.length === 1 ? 'prefill' : 'decode') };
        if (out.taps) step.taps = out.taps;
        onStep?.(step);
        if (isEos) return finish('eos');
        if (text.stopped) return finish('stop');
        if (generated.length >= sampling.maxTokens || context.length >= ctx) {
          text.flush();
          return finish('length');
        }
        await yieldToEventLoop(); // lets an abort (timer, message) land between steps
        if (signal?.aborted) return finish('cancelled');
        out = await this.runner.step([tokenId], logitsNeed(sampling, context));
      }
    } finally {
      this.busy = false;
    }
  }

  lmHeadStats(): LmHeadStats | undefined {
    return this.runner.lmHeadStats?.();
  }

  async close(): Promise<void> {
    await this.runner.dispose();
  }
}

/** The CPU runner cpuBackend asks for, and the note saying which one runs (and why not native). */
async function openCpuRunner(name: string, weights: ModelWeights, run: RunOptions, opts: EngineOptions): Promise<{ runner: StepRunner; note: string }> {
  const backend = opts.cpuBackend ?? 'auto';
  let whyNot: string | undefined;
  if (backend !== 'ort') {
    const unsupported = nativeUnsupported(run, opts);
    if (unsupported && backend === 'native') throw new RangeError(`cpuBackend native cannot run this: ${unsupported}`);
    const addon = loadNativeAddon();
    whyNot = unsupported ?? (addon.available ? undefined : addon.reason);
    if (!whyNot || backend === 'native') {
      // cpuBackend 'native' with a missing addon throws NativeUnavailableError here.
      const runner = new NativeStepRunner(weights, run, opts.threads, opts.lmHead);
      return { runner, note: `cpu: native kernels (${runner.isa})` };
    }
  }
  const graph = compileFor(weights, run, 'cpu', opts);
  let runner: StepRunner;
  try {
    runner = await openOrtRunner(graph, weights, 'cpu', opts);
  } catch (e) {
    throw new Error(`model "${name}": ONNX Runtime could not create the session: ${(e as Error).message}`);
  }
  return { runner, note: `cpu: onnxruntime${whyNot ? ` (native kernels unavailable: ${whyNot})` : ''}` };
}

/**
 * The Vulkan runner, or why there is none. `auto` takes only a hardware GPU: a CPU implementation
 * of Vulkan (SwiftShader, lavapipe) is slower than the native CPU kernels.
 */
function openVulkanRunner(weights: ModelWeights, run: RunOptions): { runner?: VulkanStepRunner; why?: string } {
  const unsupported = vulkanUnsupported(run);
  if (unsupported) throw new RangeError(unsupported);
  let vk: VulkanStepRunner;
  try {
    vk = new VulkanStepRunner(weights, run);
  } catch (e) {
    return { why: (e as Error).message };
  }
  if (run.device === 'auto' && vk.deviceType === 'cpu') {
    const why = `${vk.deviceName} is a CPU implementation`;
    void vk.dispose();
    return { why };
  }
  return { runner: vk };
}

/** Loads `modelDir` and opens a step runner for `run`: ONNX Runtime on a GPU, or on the CPU per opts.cpuBackend. */
export async function createEngine(modelDir: string, run: RunOptions, opts: EngineOptions = {}): Promise<NodeEngine> {
  validateRunOptions(run);
  if (opts.cpuBackend !== undefined && !(CPU_BACKENDS as readonly string[]).includes(opts.cpuBackend)) {
    throw new RangeError(`unknown cpuBackend ${JSON.stringify(opts.cpuBackend)} (expected one of ${CPU_BACKENDS.join(', ')})`);
  }
  if (opts.lmHead !== undefined) checkLmHead(opts.lmHead);
  const model = await loadModelDir(modelDir);
  const c = model.config;
  const name = c.name ?? modelDir.split(/[\\/]/).filter(Boolean).pop() ?? modelDir;
  const codec = new TextCodec({ tokenizerJson: model.tokenizerJson, tokenizerConfig: model.tokenizerConfig, bosTokenId: c.bosTokenId, modelName: name });
  const notes: string[] = [];
  let runner: StepRunner | undefined;
  let device: Backend | undefined;
  // The native Vulkan backend (no ONNX Runtime) when asked for, and first under `auto` when it can
  // run this (a scheme it runs, 16-bit KV, F16 embedding) on a hardware GPU.
  if (run.device === 'vulkan' || (run.device === 'auto' && vulkanUnsupported(run) === null)) {
    const vk = openVulkanRunner(model.weights, run);
    if (vk.runner) {
      runner = vk.runner;
      device = 'vulkan';
      notes.push(`${run.device === 'auto' ? 'auto picked ' : ''}vulkan: ${vk.runner.deviceName}`);
    } else if (run.device === 'vulkan') {
      device = 'cpu';
      notes.push(`vulkan could not start (${vk.why}); using cpu`);
    } else {
      notes.push(`vulkan not used: ${vk.why}`);
    }
  }
  if (!device) {
    const choice = await chooseDevice(run.device);
    device = choice.device;
    if (choice.note) notes.push(choice.note);
  }
  if (!runner && device !== 'cpu') {
    const graph = compileFor(model.weights, run, device, opts);
    try {
      runner = await openOrtRunner(graph, model.weights, device, opts);
    } catch (e) {
      notes.push(`${device} session failed (${(e as Error).message.split('\n')[0]}); using cpu`);
      device = 'cpu';
    }
  }
  if (!runner) {
    const cpu = await openCpuRunner(name, model.weights, run, opts);
    runner = cpu.runner;
    notes.push(cpu.note);
  }
  const bytes = weightBytes(model.weights);
  const info: ModelInfo = {
    name,
    dir: modelDir,
    config: configToJson(c),
    run: { ...run },
    device,
    contextLength: c.maxPositionEmbeddings,
    weightBytesPacked: bytes.packed,
    weightBytesFp16: bytes.fp16,
    projections: projectionStats(model.weights),
  };
  if (notes.length) info.deviceNote = notes.join('; ');
  if (run.experiment) info.experimentNote = experimentNote(run.experiment, run.scheme);
  return new StepEngine(info, c, runner, codec);
}
