// Entry point of the engine's own process. Runs under Electron's utilityProcess (process.parentPort)
// or as a Node child process (process.send); either way a crash or out-of-memory here takes down
// only this process, and the app restarts it (engine-host.ts).
import type { ToEngine } from '../../engine/node/remote/protocol.js';
import { serveEngine } from '../../engine/node/remote/serve.js';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}
const electronPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!electronPort && !process.send) throw new Error('engine-process must be started by the app (utilityProcess or child_process.fork)');
// A Node child whose parent went away has nothing left to do.
process.on('disconnect', () => process.exit(0));

serveEngine({
  send: (m) => (electronPort ? electronPort.postMessage(m) : process.send!(m)),
  onMessage: (listener) => {
    if (electronPort) electronPort.on('message', (e) => listener(e.data as ToEngine));
    else process.on('message', (m) => listener(m as ToEngine));
  },
  exit: () => process.exit(0),
});
