// Messages between an engine's client (connectEngine, client.ts) and the engine it drives in a
// worker thread or a process of its own (serveEngine, serve.ts). Carried by structured clone
// (worker postMessage, child_process 'advanced' serialization, Electron utilityProcess), so
// Float32Array taps pass as is.
import type { GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../../common/api.js';
import type { EngineOptions } from '../engine.js';

export type ToEngine =
  | { type: 'init'; modelDir: string; run: RunOptions; options: EngineOptions }
  | { type: 'generate'; id: number; input: GenerationInput; sampling: SamplingOptions }
  | { type: 'abort'; id: number }
  | { type: 'close' };

export type FromEngine =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-error'; error: WireError }
  | { type: 'step'; id: number; step: GenerationStep }
  | { type: 'done'; id: number; result: GenerationResult }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'closed' };

/** An error as it crosses: structured clone would keep only the message of an Error subclass. */
export interface WireError {
  name: string;
  message: string;
}

export function errorOf(e: unknown): WireError {
  return { name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) };
}

// RangeError (bad input) and TypeError come back as themselves, so callers can tell them apart.
const ERRORS: Record<string, new (m: string) => Error> = { RangeError, TypeError };

export function toError(e: WireError): Error {
  const err = new (ERRORS[e.name] ?? Error)(e.message);
  if (!(e.name in ERRORS) && e.name !== 'Error') err.name = e.name;
  return err;
}
