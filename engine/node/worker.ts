// Worker-thread host of an engine (see worker-client.ts): session.run blocks its thread, so a host
// whose thread must stay responsive runs the engine here and talks to it with messages.
import { parentPort } from 'node:worker_threads';
import type { ToEngine } from './remote/protocol.js';
import { serveEngine } from './remote/serve.js';

const port = parentPort;
if (!port) throw new Error('engine/node/worker.js must run as a worker thread (use createEngineInWorker)');

serveEngine({
  send: (m) => port.postMessage(m),
  onMessage: (listener) => port.on('message', (m: ToEngine) => listener(m)),
  // With its port closed the thread has nothing left to do and ends.
  exit: () => port.close(),
});
