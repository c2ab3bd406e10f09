// The engine side of a remote engine: runs what connectEngine (client.ts) asks for. Shared by the
// worker thread (../worker.ts) and the app's engine process (server/core/engine-process.ts); each
// only supplies its message channel.
import type { Engine } from '../../common/api.js';
import { createEngine } from '../engine.js';
import { errorOf, type FromEngine, type ToEngine } from './protocol.js';

export interface EngineEndpoint {
  send(message: FromEngine): void;
  onMessage(listener: (message: ToEngine) => void): void;
  /** Ends the thread or process; called once the engine is closed and 'closed' is sent. */
  exit(): void;
}

export function serveEngine(endpoint: EngineEndpoint): void {
  const { send } = endpoint;
  const running = new Map<number, AbortController>();
  let engine: Engine | undefined;

  endpoint.onMessage((m) => {
    switch (m.type) {
      case 'init':
        createEngine(m.modelDir, m.run, m.options).then(
          (e) => {
            engine = e;
            send({ type: 'ready', info: e.info });
          },
          (e) => send({ type: 'init-error', error: errorOf(e) }),
        );
        return;
      case 'abort':
        running.get(m.id)?.abort();
        return;
      case 'close':
        void (async () => {
          for (const c of running.values()) c.abort();
          await engine?.close();
          send({ type: 'closed' });
          endpoint.exit();
        })();
        return;
      case 'generate': {
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
    }
  });
}
