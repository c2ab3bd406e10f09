// The ONNX Runtime step runner: the decode-step graph compiled for the run, its session on a
// backend, the KV cache fed back between steps and the embedding lookup done in JavaScript.
import * as ort from 'onnxruntime-node';
import type { LayerTaps, RunOptions } from '../common/api.js';
import type { ModelWeights } from '../common/weights.js';
import type { Backend } from './backends.js';
import { compileGraph, type CompiledGraph } from './graph/compile.js';
import type { MatMulMode } from './graph/ops.js';
import type { Target } from './graph/onnx-builder.js';
import { writeModelFiles, type ModelFiles } from './graph/model-files.js';
import { EmbeddingTable } from './embedding.js';
import { KvCache } from './kv-cache.js';
import type { StepOutput, StepRunner } from './step-runner.js';

/** The EngineOptions that only the ORT runner reads. */
export interface OrtOptions {
  sessionConfig?: Record<string, string>;
  threads?: number;
  matmul?: MatMulMode;
  graphTarget?: Target;
  externalData?: 'auto' | boolean;
}

export class OrtStepRunner implements StepRunner {
  private readonly kv: KvCache;
  private readonly graph: CompiledGraph;

  constructor(
    graph: CompiledGraph,
    private session: ort.InferenceSession | undefined,
    private readonly embedding: EmbeddingTable,
    private readonly numLayers: number,
    private readonly hiddenSize: number,
    private readonly files: ModelFiles | undefined,
  ) {
    // The serialized graph (as large as the weights) is ORT's now; keep only what the runner reads.
    this.graph = { ...graph, model: new Uint8Array(0), external: undefined };
    this.kv = new KvCache(graph.kv, graph.numKvHeads);
    // GPU graphs start from a cache of zero slots instead of KvCache's masked dummy slot.
    this.emptyPast = graph.kvStart === 'empty' ? Object.fromEntries(graph.kv.map((s) => [s.past, new ort.Tensor('float32', new Float32Array(0), [1, graph.numKvHeads, 0, s.lastDim])])) : {};
  }

  private readonly emptyPast: Record<string, ort.Tensor>;

  get length(): number {
    return this.kv.length;
  }

  reset(): void {
    this.kv.reset();
  }

  async step(ids: number[]): Promise<StepOutput> {
    if (!this.session) throw new Error('engine is closed');
    const feeds: Record<string, ort.Tensor> = {
      ...(this.kv.length === 0 && this.graph.kvStart === 'empty' ? this.emptyPast : this.kv.feeds()),
      [this.graph.inputsEmbeds]: new ort.Tensor('float32', this.embedding.lookup(ids), [1, ids.length, this.hiddenSize]),
    };
    const out = await this.session.run(feeds);
    const position = this.kv.length + ids.length - 1;
    this.kv.update(out, ids.length);
    const logits = (out[this.graph.logits] as ort.Tensor).data as Float32Array;
    if (!this.graph.taps.length) return { logits };
    const layers: LayerTaps[] = Array.from({ length: this.numLayers }, () => ({}) as LayerTaps);
    for (const t of this.graph.taps) layers[t.layer][t.field] = (out[t.name] as ort.Tensor).data as Float32Array;
    return { logits, taps: { position, tokenId: ids[ids.length - 1], layers } };
  }

  async dispose(): Promise<void> {
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

async function openSession(graph: CompiledGraph, device: Backend, opts: OrtOptions): Promise<OpenedSession> {
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

/** The decode-step graph of `weights` for `run` on `device` (throws on a shape the graph cannot build). */
export function compileFor(weights: ModelWeights, run: RunOptions, device: Backend, opts: OrtOptions): CompiledGraph {
  return compileGraph(weights, {
    scheme: run.scheme,
    kvBits: run.kvBits,
    taps: run.taps,
    experiment: run.experiment,
    target: opts.graphTarget ?? (device === 'cpu' ? 'cpu' : 'gpu'),
    matmul: opts.matmul ?? (device === 'cpu' ? 'int8-exact' : 'fp32'),
    externalData: opts.externalData,
  });
}

/** Opens the session of `graph` on `device` (throws ORT's error). */
export async function openOrtRunner(graph: CompiledGraph, weights: ModelWeights, device: Backend, opts: OrtOptions): Promise<OrtStepRunner> {
  const c = weights.config;
  const { session, files } = await openSession(graph, device, opts);
  return new OrtStepRunner(graph, session, new EmbeddingTable(weights, c.hiddenSize), c.numLayers, c.hiddenSize, files);
}
