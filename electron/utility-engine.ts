// The engine in an Electron utility process (its own OS process: a crash or out-of-memory there
// leaves the app running; engine-host.ts restarts it). Same protocol as the browser host's child.
import type { UtilityProcess } from 'electron';
import type { EngineFactory } from '../server/core/engine-host.js';
import { connectEngine, type EngineTransport } from '../engine/node/remote/client.js';
import type { FromEngine } from '../engine/node/remote/protocol.js';

export type ForkUtility = (modulePath: string, args: string[], options: { serviceName: string; stdio: 'inherit' }) => UtilityProcess;

export function utilityTransport(fork: ForkUtility, entry: string): EngineTransport {
  const child = fork(entry, [], { serviceName: 'BitLens engine', stdio: 'inherit' });
  let exited = false;
  return {
    post: (m) => {
      if (!exited) child.postMessage(m);
    },
    onMessage: (listener) => child.on('message', (m: unknown) => listener(m as FromEngine)),
    onExit: (listener) =>
      child.on('exit', (code: number) => {
        if (exited) return;
        exited = true;
        listener(`exit code ${code}`);
      }),
    kill: () => {
      if (!exited) child.kill();
    },
  };
}

export function utilityEngineFactory(fork: ForkUtility, entry: string): EngineFactory {
  return (modelDir, run, onExit) => connectEngine(utilityTransport(fork, entry), modelDir, run, { onExit });
}
