// The Engine interface backed by an engine in its own process (engine-process.ts), over any
// transport with structured-clone messages and an exit signal: Node's child_process.fork here,
// Electron's utilityProcess in electron/utility-engine.ts.
import { existsSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Engine, GenerationInput, GenerationResult, GenerationStep, ModelInfo, RunOptions, SamplingOptions } from '../../engine/common/api.js';
import type { FromEngineProcess, ToEngineProcess, WireError } from './engine-process-protocol.js';
import type { EngineFactory } from './engine-host.js';

export interface EngineTransport {
  post(message: ToEngineProcess): void;
  onMessage(listener: (message: FromEngineProcess) => void): void;
  /** Called once when the process is gone, for whatever reason. */
  onExit(listener: (reason: string) => void): void;
  kill(): void;
}

const ERRORS: Record<string, new (m: string) => Error> = { RangeError, TypeError };
function toError(e: WireError): Error {
  const err = new (ERRORS[e.name] ?? Error)(e.message);
  if (!(e.name in ERRORS) && e.name !== 'Error') err.name = e.name;
  return err;
}

/** The compiled entry next to this file, or its TypeScript source through tsx (tests, dev). */
export function engineProcessEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./engine-process.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL('./engine-process.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
}

interface Pending {
  onStep?: (step: GenerationStep) => void;
  resolve: (r: GenerationResult) => void;
  reject: (e: Error) => void;
}

/** Start the engine in `transport`'s process; resolves once the model is loaded. */
export async function connectEngine(
  transport: EngineTransport,
  modelDir: string,
  run: RunOptions,
  onExit: (reason: string) => void,
  threads?: number,
): Promise<Engine & { readonly pid?: number }> {
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
          transport.kill();
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
      dead = new Error(`the engine process stopped (${reason})`);
      reject(dead);
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
      closed?.();
      if (!closing) onExit(reason);
    });
    transport.post({ type: 'init', modelDir, run, ...(threads && { threads }) });
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
        new Promise<void>((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
      transport.kill();
    },
  };
}

/** Node transport: child_process.fork with structured-clone messages. */
export function forkTransport(): EngineTransport & { pid: number | undefined } {
  const entry = engineProcessEntry();
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  return {
    pid: child.pid,
    post: (m) => {
      if (!exited && child.connected) child.send(m);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as FromEngineProcess)),
    onExit: (listener) => {
      const report = (reason: string) => {
        if (exited) return;
        exited = true;
        listener(reason);
      };
      child.on('exit', (code, signal) => report(signal ? `killed by ${signal}` : `exit code ${code}`));
      child.on('error', (e) => report(e.message));
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** The browser host's engine factory: each engine in a forked Node process. */
export function childProcessEngineFactory(opts: { threads?: number; onSpawn?: (pid: number | undefined) => void } = {}): EngineFactory {
  return (modelDir, run, onExit) => {
    const transport = forkTransport();
    opts.onSpawn?.(transport.pid);
    return connectEngine(transport, modelDir, run, onExit, opts.threads);
  };
}
