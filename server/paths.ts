// Where the app's files are, whether running from dist/ (built) or from sources (tsx, tests).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding BitLens' package.json. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'bitlens') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find BitLens' package.json above ${from}`);
  }
}

export const defaultRendererDir = () => path.join(packageRoot(), 'dist', 'renderer');
export const defaultModelsDir = () => path.join(packageRoot(), 'assets', 'models');
