// The engine on onnxruntime-node: loads a model folder, compiles the decode-step graph for the run
// options, opens a session on the requested device (falling back to the CPU with the reason), and
// generates with a KV cache, sampling, stop conditions, cancellation, streaming stats and taps.
import * as ort from 'onnxruntime-node';
import {
  DEVICES,
  KV_BITS,
  type Engine,
  type GenerationInput,
  type GenerationResult,
  type GenerationStep,
  type LayerTaps,
  type ModelInfo,
  type RunOptions,
  type SamplingOptions,
  type StepStats,
  type TapFrame,
} from '../common/api.js';
import { configToJson, type ModelConfig } from '../common/config.js';
import { sampleToken, seededRandom, validateSampling } from '../common/sampling.js';
import { EXPERIMENTS, experimentNote } from '../common/experiment.js';
import { SCHEMES } from '../common/scheme.js';
import { chooseDevice, type Backend } from './backends.js';
import { compileGraph, type CompiledGraph } from './graph/compile.js';
import type { MatMulMode } from './graph/ops.js';
import type { Target } from './graph/onnx-builder.js';
import { writeModelFiles, type ModelFiles } from './graph/model-files.js';
import { KvCache, kvCacheBytes } from './kv-cache.js';
import { loadModelDir } from './model-dir.js';
import { projectionStats, weightBytes } from './model-info.js';
import { TextCodec } from './tokenizer.js';
import { EmbeddingTable } from './embedding.js';
import { StreamingText } from './streaming-text.js';

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
  /** Intra-op threads (default: ONNX Runtime's choice, all cores). */
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
}

/** Output of one graph run, already on the host. */
export interface StepOutput {
  logits: Float32Array;
  taps?: TapFrame;
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
   * One graph run on `ids` after the cached tokens (`fresh`: empty the cache first): the logits of
   * the last token and, with taps on, its TapFrame. For tests, evaluation and golden checks.
   */
  forward(ids: number[], fresh?: boolean): Promise<StepOutput>;
  generateFromIds(prompt: number[], sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal, raw?: RawGenerationOptions): Promise<GenerationResult>;
}

class OrtEngine implements NodeEngine {
  private busy = false;
  private readonly kv: KvCache;

  constructor(
    readonly info: ModelInfo,
    private readonly config: ModelConfig,
    private readonly graph: CompiledGraph,
    private session: ort.InferenceSession | undefined,
    private readonly codec: TextCodec,
    private readonly embedding: EmbeddingTable,
    private readonly files: ModelFiles | undefined,
  ) {
    this.kv = new KvCache(graph.kv, graph.numKvHeads);
  }

  /** Runs the graph on `ids` after the cached tokens and advances the cache. */
  private async step(ids: number[]): Promise<StepOutput> {
    if (!this.session) throw new Error('engine is closed');
    const feeds: Record<string, ort.Tensor> = {
      ...this.kv.feeds(),
      [this.graph.inputsEmbeds]: new ort.Tensor('float32', this.embedding.lookup(ids), [1, ids.length, this.config.hiddenSize]),
    };
    const out = await this.session.run(feeds);
    const position = this.kv.length + ids.length - 1;
    this.kv.update(out, ids.length);
    const logits = (out[this.graph.logits] as ort.Tensor).data as Float32Array;
    if (!this.graph.taps.length) return { logits };
    const layers: LayerTaps[] = Array.from({ length: this.config.numLayers }, () => ({}) as LayerTaps);
    for (const t of this.graph.taps) layers[t.layer][t.field] = (out[t.name] as ort.Tensor).data as Float32Array;
    return { logits, taps: { position, tokenId: ids[ids.length - 1], layers } };
  }

  async forward(ids: number[], fresh = false): Promise<StepOutput> {
    if (this.busy) throw new Error('the engine is already generating (one generation at a time)');
    const c = this.config;
    if (fresh) this.kv.reset();
    if (ids.length === 0) throw new RangeError('forward() needs at least one token');
    const bad = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= c.vocabSize);
    if (bad !== undefined) throw new RangeError(`token id ${bad} is outside the vocabulary (0..${c.vocabSize - 1})`);
    if (this.kv.length + ids.length > this.info.contextLength) {
      throw new RangeError(`${this.kv.length} cached + ${ids.length} new tokens exceed the context of ${this.info.contextLength} tokens`);
    }
    return this.step(ids);
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
      this.kv.reset();
      const random = seededRandom(sampling.seed ?? Math.floor(Math.random() * 2 ** 32));
      const context = [...prompt];
      const generated: number[] = [];
      const text = new StreamingText(sampling.stop);
      const t0 = now();
      let tFirst = t0;
      const stats = (phase: StepStats['phase']): StepStats => {
        const t = now();
        const kvb = kvCacheBytes(c, this.info.run.kvBits, this.kv.length);
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
      let out = await this.step(prompt);
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
        out = await this.step([tokenId]);
      }
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    this.kv.dispose();
    const s = this.session;
    this.session = undefined;
    try {
      await s?.release();
    } finally {
      await this.files?.remove();
    }
  }
}

interface OpenedSession {
  session: ort.InferenceSession;
  /** The temp folder of a model with external data, removed on close. */
  files?: ModelFiles;
}

async function openSession(graph: CompiledGraph, device: Backend, opts: EngineOptions): Promise<OpenedSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: device === 'cpu' ? ['cpu'] : [device, 'cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (opts.threads) options.intraOpNumThreads = opts.threads;
  if (opts.sessionConfig) options.extra = opts.sessionConfig;
  if (device !== 'cpu') {
    // KV cache stays on the device; what JavaScript reads comes back to the CPU.
    const loc: Record<string, ort.Tensor.DataLocation> = { [graph.logits]: 'cpu' };
    for (const t of graph.taps) loc[t.name] = 'cpu';
    for (const k of graph.kv) loc[k.present] = 'gpu-buffer';
    options.preferredOutputLocation = loc as ort.InferenceSession.SessionOptions['preferredOutputLocation'];
  }
  if (!graph.external) return { session: await ort.InferenceSession.create(graph.model, options) };
  const files = await writeModelFiles({ model: graph.model, external: graph.external });
  try {
    return { session: await ort.InferenceSession.create(files.modelPath, options), files };
  } catch (e) {
    await files.remove();
    throw e;
  }
}

/** Loads `modelDir`, compiles its graph for `run` and opens an ONNX Runtime session. */
export async function createEngine(modelDir: string, run: RunOptions, opts: EngineOptions = {}): Promise<NodeEngine> {
  validateRunOptions(run);
  const model = await loadModelDir(modelDir);
  const c = model.config;
  const name = c.name ?? modelDir.split(/[\\/]/).filter(Boolean).pop() ?? modelDir;
  const codec = new TextCodec({ tokenizerJson: model.tokenizerJson, tokenizerConfig: model.tokenizerConfig, bosTokenId: c.bosTokenId, modelName: name });
  const compile = (device: Backend) =>
    compileGraph(model.weights, {
      scheme: run.scheme,
      kvBits: run.kvBits,
      taps: run.taps,
      experiment: run.experiment,
      target: opts.graphTarget ?? (device === 'cpu' ? 'cpu' : 'gpu'),
      matmul: opts.matmul ?? (device === 'cpu' ? 'int8-exact' : 'fp32'),
      externalData: opts.externalData,
    });
  const choice = await chooseDevice(run.device);
  let device = choice.device;
  let note = choice.note;
  let graph = compile(device);
  let session: OpenedSession;
  try {
    session = await openSession(graph, device, opts);
  } catch (e) {
    if (device === 'cpu') throw new Error(`model "${name}": ONNX Runtime could not create the session: ${(e as Error).message}`);
    note = `${device} session failed (${(e as Error).message.split('\n')[0]}); using cpu`;
    device = 'cpu';
    graph = compile(device);
    session = await openSession(graph, 'cpu', opts);
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
  if (note) info.deviceNote = note;
  if (run.experiment) info.experimentNote = experimentNote(run.experiment, run.scheme);
  // The serialized graph (as large as the weights) is ORT's now; keep only what the engine reads.
  return new OrtEngine(info, c, { ...graph, model: new Uint8Array(0), external: undefined }, session.session, codec, new EmbeddingTable(model.weights, c.hiddenSize), session.files);
}
