// `bitlens import`: converts a Hugging Face BitNet folder or a BitNet GGUF file into a BitLens model
// folder (--out DIR), or into the import cache (default), and prints the folder's path on stdout.
import { resolveModel, importModel } from '../engine/node/import/index.js';
import { mib } from './format.js';
import { importProgress } from './open-model.js';
import { oneOf, parse, UsageError } from './options.js';

export const IMPORT_USAGE = `bitlens import SOURCE [--out DIR | --cache-dir DIR] [--force] [--activation relu2|silu]
              (SOURCE: Hugging Face BitNet folder or .gguf file; prints the BitLens model folder)`;

export async function importCommand(argv: string[]): Promise<void> {
  const sourceArg = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  const o = parse(sourceArg ? argv.slice(1) : argv, {
    out: { type: 'string' },
    'cache-dir': { type: 'string' },
    force: { type: 'boolean' },
    activation: { type: 'string' },
  });
  if (!sourceArg) throw new UsageError('missing SOURCE (a Hugging Face model folder or a .gguf file)');
  if (o.out && o['cache-dir']) throw new UsageError('--out and --cache-dir exclude each other');
  const act = oneOf('activation', o.activation, ['relu2', 'silu'] as const);
  const activation = act === undefined ? undefined : act === 'relu2' ? 'relu2glu' : 'swiglu';
  const { onProgress, end } = importProgress();
  const started = performance.now();
  let dir: string;
  let note: string;
  if (o.out) {
    const r = await importModel(sourceArg, o.out, { activation, onProgress });
    [dir, note] = [o.out, r.description];
  } else {
    const r = await resolveModel(sourceArg, { cacheDir: o['cache-dir'], force: o.force, activation, onProgress });
    [dir, note] = [r.dir, r.kind === 'bitlens' ? 'already a BitLens model folder' : r.cached ? 'cached import' : (r.description ?? r.kind)];
  }
  end();
  process.stderr.write(`${note}; ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}\n`);
  process.stdout.write(`${dir}\n`);
}
