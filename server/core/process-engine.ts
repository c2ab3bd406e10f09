// The engine in its own Node process (engine-process.ts) for the browser host, through
// child_process.fork; the Electron app does the same over utilityProcess (electron/utility-engine.ts).
import { existsSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectEngine, type EngineTransport } from '../../engine/node/remote/client.js';
import type { FromEngine } from '../../engine/node/remote/protocol.js';
import type { EngineFactory } from './engine-host.js';

/** The compiled entry next to this file, or its TypeScript source through tsx (tests, dev). */
export function engineProcessEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./engine-process.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL('./engine-process.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
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
    onMessage: (listener) => child.on('message', (m) => listener(m as FromEngine)),
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
    return connectEngine(transport, modelDir, run, { onExit, options: opts.threads ? { threads: opts.threads } : {} });
  };
}
