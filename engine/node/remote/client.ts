// The client side of a remote engine: the Engine interface backed by an engine that serveEngine
// (serve.ts) runs in a worker thread or a process of its own, over any transport that carries
// structured-clone messages and says when the other side is gone. Streaming and abort go over
// messages; the engine checks for an abort between decode steps.
import type { Engine, GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../../common/api.js';
import type { EngineOptions } from '../engine.js';
import { toError, type FromEngine, type ToEngine } from './protocol.js';

export interface EngineTransport {
  /** What runs the engine, as named in errors: 'process' (default) or 'worker'. */
  readonly kind?: string;
  post(message: ToEngine): void;
  onMessage(listener: (message: FromEngine) => void): void;
  /** Called when the thread or process is gone, for whatever reason; only the first call counts. */
  onExit(listener: (reason: string) => void): void;
  kill(): void | Promise<void>;
}

export interface ConnectOptions {
  /** Called if the engine's thread or process dies on its own (not after close() or a failed load). */
  onExit?: (reason: string) => void;
  options?: EngineOptions;
}

interface Pending {
  onStep?: (step: GenerationStep) => void;
  resolve: (r: GenerationResult) => void;
  reject: (e: Error) => void;
}

// A close that the engine does not confirm in this time (wedged in a session run) ends in kill().
const CLOSE_TIMEOUT_MS = 5000;

/** Start the engine on the other side of `transport`; resolves once the model is loaded. */
export async function connectEngine(transport: EngineTransport, modelDir: string, run: RunOptions, connect: ConnectOptions = {}): Promise<Engine> {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | undefined;
  let closing = false;
  let closed: (() => void) | undefined;

  const info = await new Promise<ModelInfo>((resolve, reject) => {
    transport.onMessage((m) => {
      switch (m.type) {
        case 'ready':
          return resolve(m.info);
        case 'init-error':
          closing = true;
          void transport.kill();
          return reject(toError(m.error));
        case 'step':
          return pending.get(m.id)?.onStep?.(m.step);
        case 'done':
          pending.get(m.id)?.resolve(m.result);
          return pending.delete(m.id);
        case 'error':
          pending.get(m.id)?.reject(toError(m.error));
          return pending.delete(m.id);
        case 'closed':
          return closed?.();
      }
    });
    transport.onExit((reason) => {
      if (dead) return;
      dead = new Error(`the engine ${transport.kind ?? 'process'} stopped (${reason})`);
      reject(dead);
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
      closed?.();
      if (!closing) connect.onExit?.(reason);
    });
    transport.post({ type: 'init', modelDir, run, options: connect.options ?? {} });
  });

  return {
    info,
    generate(input: GenerationInput, sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<GenerationResult>((resolve, reject) => {
        const abort = () => transport.post({ type: 'abort', id });
        signal?.addEventListener('abort', abort, { once: true });
        const done = () => signal?.removeEventListener('abort', abort);
        pending.set(id, { onStep, resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)) });
        transport.post({ type: 'generate', id, input, sampling });
        if (signal?.aborted) abort();
      });
    },
    async close() {
      if (dead || closing) return;
      closing = true;
      await Promise.race([
        new Promise<void>((resolve) => {
          closed = resolve;
          transport.post({ type: 'close' });
        }),
        new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref()),
      ]);
      await transport.kill();
    },
  };
}
