// createEngineInWorker: the Engine interface backed by an engine in a worker thread (worker.ts), so
// the calling thread stays responsive while ONNX Runtime runs (messages: remote/client.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Engine, RunOptions } from '../common/api.js';
import { validateRunOptions, type EngineOptions } from './engine.js';
import { connectEngine, type EngineTransport } from './remote/client.js';
import type { FromEngine } from './remote/protocol.js';

/**
 * The compiled worker next to this file, or (running from TypeScript sources: tests, dev) a small
 * bootstrap that registers tsx in the worker and imports worker.ts.
 */
function spawnWorker(): Worker {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return new Worker(js);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const ts = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`, { eval: true });
}

function workerTransport(worker: Worker): EngineTransport {
  return {
    kind: 'worker',
    post: (m) => worker.postMessage(m),
    onMessage: (listener) => worker.on('message', (m: FromEngine) => listener(m)),
    // 'error' (an uncaught exception in the worker) is followed by 'exit'; connectEngine keeps the first.
    onExit: (listener) => {
      worker.on('error', (e) => listener(e.message));
      worker.on('exit', (code) => listener(`exit code ${code}`));
    },
    kill: async () => {
      await worker.terminate();
    },
  };
}

export async function createEngineInWorker(modelDir: string, run: RunOptions, options: EngineOptions = {}): Promise<Engine> {
  validateRunOptions(run);
  return connectEngine(workerTransport(spawnWorker()), modelDir, run, { options });
}
