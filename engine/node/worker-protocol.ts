// Messages between createEngineInWorker (worker-client.ts) and the worker (worker.ts).
import type { GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../common/api.js';
import type { EngineOptions } from './engine.js';

export interface WorkerInit {
  modelDir: string;
  run: RunOptions;
  options: EngineOptions;
}

export interface WireError {
  name: string;
  message: string;
}

export type ToWorker =
  | { type: 'generate'; id: number; input: GenerationInput; sampling: SamplingOptions }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-error'; error: WireError }
  | { type: 'step'; id: number; step: GenerationStep }
  | { type: 'done'; id: number; result: GenerationResult }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'closed' };
