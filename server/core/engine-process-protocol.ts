// Messages between the app and the engine's own process (engine-process.ts): a Node child process
// in the browser host, an Electron utility process in the app. Carried by structured clone
// (child_process 'advanced' serialization / utilityProcess), so Float32Array taps pass as is.
import type { GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../../engine/common/api.js';

export type ToEngineProcess =
  | { type: 'init'; modelDir: string; run: RunOptions; threads?: number }
  | { type: 'generate'; id: number; input: GenerationInput; sampling: SamplingOptions }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export interface WireError {
  name: string;
  message: string;
}

export type FromEngineProcess =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-error'; error: WireError }
  | { type: 'step'; id: number; step: GenerationStep }
  | { type: 'done'; id: number; result: GenerationResult }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'closed' };
