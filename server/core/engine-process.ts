// Entry point of the engine's own process. Runs under Electron's utilityProcess (process.parentPort)
// or as a Node child process (process.send); either way a crash or out-of-memory here takes down
// only this process, and the app restarts it (engine-host.ts).
import type { Engine } from '../../engine/common/api.js';
import { createEngine } from '../../engine/node/engine.js';
import type { FromEngineProcess, ToEngineProcess } from './engine-process-protocol.js';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}
const electronPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

const send = (m: FromEngineProcess) => (electronPort ? electronPort.postMessage(m) : process.send!(m));
const onMessage = (listener: (m: ToEngineProcess) => void) => {
  if (electronPort) electronPort.on('message', (e) => listener(e.data as ToEngineProcess));
  else process.on('message', (m) => listener(m as ToEngineProcess));
};
if (!electronPort && !process.send) throw new Error('engine-process must be started by the app (utilityProcess or child_process.fork)');
// A Node child whose parent went away has nothing left to do.
process.on('disconnect', () => process.exit(0));

const errorOf = (e: unknown) => ({ name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) });
const running = new Map<number, AbortController>();
let engine: Engine | undefined;

onMessage((m) => {
  switch (m.type) {
    case 'init':
      createEngine(m.modelDir, m.run, m.threads ? { threads: m.threads } : {}).then(
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
        process.exit(0);
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
