// Finds a python3 that can import the modules a training test needs (CI installs Debian's
// python3-torch; a pyenv shim on PATH may not see it, /usr/bin/python3 does).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');

export function findPython(imports: string): string {
  const tried: string[] = [];
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    try {
      execFileSync(py, ['-c', `import ${imports}`], { stdio: 'ignore' });
      return py;
    } catch {
      tried.push(py);
    }
  }
  throw new Error(`no python3 that can import ${imports} (tried ${tried.join(', ')}); install python3-torch`);
}

/** Runs `python3 -m training.<module> args` from the repository root and returns its stdout. */
export function runTraining(python: string, module: string, args: string[], timeoutMs = 120_000): string {
  return execFileSync(python, ['-m', `training.${module}`, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}
