// createEngineInWorker: the Engine interface backed by an engine in a worker thread (worker.ts), so
// the calling thread stays responsive while ONNX Runtime runs. Streaming and abort go over messages;
// the worker checks for an abort between decode steps.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Engine, GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../common/api.js';
import { validateRunOptions, type EngineOptions } from './engine.js';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './worker-protocol.js';

const ERRORS: Record<string, new (m: string) => Error> = { RangeError, TypeError };
function toError(e: WireError): Error {
  const err = new (ERRORS[e.name] ?? Error)(e.message);
  if (!(e.name in ERRORS) && e.name !== 'Error') err.name = e.name;
  return err;
}

/**
 * The compiled worker next to this file, or (running from TypeScript sources: tests, dev) a small
 * bootstrap that registers tsx in the worker and imports worker.ts.
 */
function spawnWorker(workerData: WorkerInit): Worker {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return new Worker(js, { workerData });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const ts = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`, { eval: true, workerData });
}

interface Pending {
  onStep?: (step: GenerationStep) => void;
  resolve: (r: GenerationResult) => void;
  reject: (e: Error) => void;
}

export async function createEngineInWorker(modelDir: string, run: RunOptions, options: EngineOptions = {}): Promise<Engine> {
  validateRunOptions(run);
  const worker = spawnWorker({ modelDir, run, options });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed: (() => void) | undefined;
  let dead: Error | undefined;

  const info = await new Promise<ModelInfo>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          return resolve(m.info);
        case 'init-error':
          void worker.terminate();
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
    const fail = (e: Error) => {
      dead = e;
      reject(e);
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      closed?.();
    };
    worker.on('error', (e) => fail(new Error(`engine worker failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`engine worker exited (code ${code})`)));
  });

  const post = (m: ToWorker) => worker.postMessage(m);
  return {
    info,
    generate(input: GenerationInput, sampling: SamplingOptions, onStep?: (step: GenerationStep) => void, signal?: AbortSignal): Promise<GenerationResult> {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<GenerationResult>((resolve, reject) => {
        const abort = () => post({ type: 'abort', id });
        signal?.addEventListener('abort', abort, { once: true });
        const done = () => signal?.removeEventListener('abort', abort);
        pending.set(id, {
          onStep,
          resolve: (r) => (done(), resolve(r)),
          reject: (e) => (done(), reject(e)),
        });
        post({ type: 'generate', id, input, sampling });
        if (signal?.aborted) abort();
      });
    },
    async close(): Promise<void> {
      if (dead) return;
      await new Promise<void>((resolve) => {
        closed = resolve;
        post({ type: 'close' });
      });
      await worker.terminate();
    },
  };
}
