// --model for generate/bench: a BitLens folder, a Hugging Face BitNet folder or a GGUF file; the
// latter two are imported once into the import cache (resolveModel), with progress on stderr.
import { existsSync } from 'node:fs';
import { resolveModel, type ImportProgress, type ResolveOptions } from '../engine/node/import/index.js';
import { mib } from './format.js';
import { modelDir } from './options.js';

/** Draws "importing N% (x of y)" on a terminal; returns the callback and a function ending the line. */
export function importProgress(): { onProgress: (p: ImportProgress) => void; end: () => void } {
  let last = -1;
  return {
    onProgress: ({ done, total }) => {
      const pct = Math.floor((100 * done) / total);
      if (pct !== last && process.stderr.isTTY) process.stderr.write(`\rimporting ${pct}% (${mib(done)} of ${mib(total)})`);
      last = pct;
    },
    end: () => {
      if (process.stderr.isTTY && last >= 0) process.stderr.write('\n');
    },
  };
}

/** The BitLens folder to run for --model (or the embedded default). */
export async function openModelArg(value: string | undefined, opts: Pick<ResolveOptions, 'cacheDir'> = {}): Promise<string> {
  const source = modelDir(value);
  if (!existsSync(source)) throw new Error(`${source}: model folder does not exist (nor a GGUF file of that name)`);
  const progress = importProgress();
  const started = performance.now();
  const r = await resolveModel(source, { ...opts, onProgress: progress.onProgress });
  progress.end();
  if (r.kind !== 'bitlens') {
    const how = r.cached ? 'cached import' : `imported (${r.description}) in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    process.stderr.write(`${source}: ${how}: ${r.dir}\n`);
  }
  return r.dir;
}
