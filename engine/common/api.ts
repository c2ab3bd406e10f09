// The engine's public contract: what a host (CLI, Electron utility process, browser host) asks
// for and what comes back. Pure types, so the renderer and the IPC contract can import them.
import type { Experiment } from './experiment.js';
import type { Scheme } from './scheme.js';

export type { Experiment, Scheme };
export const DEVICES = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml', 'vulkan'] as const;
export type Device = (typeof DEVICES)[number];
export const KV_BITS = [16, 8, 4, 3] as const;
export type KvBits = (typeof KV_BITS)[number];

/** The quantized linear inputs of one layer (docs/model-format.md, "site"). */
export const SITES = ['qkv', 'o', 'gateup', 'down'] as const;
export type Site = (typeof SITES)[number];

export interface RunOptions {
  scheme: Scheme;
  kvBits: KvBits;
  device: Device;
  /** Return the quantized linear inputs of the last token of every step (inspector). */
  taps: boolean;
  /** An analysis run that is not the model as trained (engine/common/experiment.ts); labelled. */
  experiment?: Experiment;
}

export interface SamplingOptions {
  maxTokens: number;
  /** 0 means greedy. */
  temperature: number;
  /** 0 means off. */
  topK: number;
  /** 1 means off. */
  topP: number;
  /** 1 means off. */
  repetitionPenalty: number;
  seed?: number;
  stop: string[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Either raw text to continue, or messages rendered with the model's chat template. */
export type GenerationInput = { prompt: string } | { messages: ChatMessage[] };

/**
 * Activations entering the quantizers of one layer, for one token (float32, before quantization).
 * For schemes with the Hadamard transform, `o` and `down` are after it and the `...PreHadamard`
 * fields hold the same vector before it (after SubLN).
 */
export interface LayerTaps {
  qkv: Float32Array;
  o: Float32Array;
  gateup: Float32Array;
  down: Float32Array;
  oPreHadamard?: Float32Array;
  downPreHadamard?: Float32Array;
}

export interface TapFrame {
  /** Position of the token in the sequence (0-based). */
  position: number;
  tokenId: number;
  layers: LayerTaps[];
}

export interface StepStats {
  phase: 'prefill' | 'decode';
  promptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  /** Resident set size of the engine's process. */
  rssBytes: number;
  /** KV cache bytes at the chosen bits for the current context, and what fp16 would take. */
  kvCacheBytes: number;
  kvCacheBytesFp16: number;
}

export interface GenerationStep {
  tokenId: number;
  /** Text this token adds (may be empty while a multi-byte character is incomplete). */
  text: string;
  stats: StepStats;
  taps?: TapFrame;
}

export type FinishReason = 'eos' | 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  stats: StepStats;
}

export interface ProjectionStats {
  rows: number;
  cols: number;
  alpha: number;
  /** Fraction of ternary weights that are exactly zero. */
  zeroFraction: number;
}

export interface ModelInfo {
  name: string;
  dir: string;
  /** Parsed config.json (docs/model-format.md). */
  config: Record<string, unknown>;
  run: RunOptions;
  /** The execution provider actually in use, and why it differs from the request if it does. */
  device: Exclude<Device, 'auto'>;
  deviceNote?: string;
  /** Set when run.experiment is: what the experiment changes (show it with the results). */
  experimentNote?: string;
  contextLength: number;
  weightBytesPacked: number;
  weightBytesFp16: number;
  /** Per layer: q, k, v, o, gate, up, down. */
  projections: Record<string, ProjectionStats>[];
}

export interface Engine {
  readonly info: ModelInfo;
  generate(
    input: GenerationInput,
    sampling: SamplingOptions,
    onStep?: (step: GenerationStep) => void,
    signal?: AbortSignal,
  ): Promise<GenerationResult>;
  close(): Promise<void>;
}
