// Worker-thread host of an engine (see worker-client.ts): session.run blocks its thread, so a host
// whose thread must stay responsive runs the engine here and talks to it with messages.
import { parentPort, workerData } from 'node:worker_threads';
import type { Engine } from '../common/api.js';
import { createEngine } from './engine.js';
import type { ToWorker, FromWorker, WorkerInit } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('engine/node/worker.js must run as a worker thread (use createEngineInWorker)');

const send = (m: FromWorker) => port.postMessage(m);
const errorOf = (e: unknown) => ({ name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) });

const { modelDir, run, options } = workerData as WorkerInit;
const running = new Map<number, AbortController>();
let engine: Engine | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') running.get(m.id)?.abort();
  else if (m.type === 'close') {
    void (async () => {
      for (const c of running.values()) c.abort();
      await engine?.close();
      send({ type: 'closed' });
      port.close();
    })();
  } else if (m.type === 'generate') {
    const controller = new AbortController();
    running.set(m.id, controller);
    void (async () => {
      try {
        if (!engine) throw new Error('engine is not ready');
        const result = await engine.generate(m.input, m.sampling, (step) => send({ type: 'step', id: m.id, step }), controller.signal);
        send({ type: 'done', id: m.id, result });
      } catch (e) {
        send({ type: 'error', id: m.id, error: errorOf(e) });
      } finally {
        running.delete(m.id);
      }
    })();
  }
});

createEngine(modelDir, run, options).then(
  (e) => {
    engine = e;
    send({ type: 'ready', info: e.info });
  },
  (e) => send({ type: 'init-error', error: errorOf(e) }),
);
