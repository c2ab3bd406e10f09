// Opening models BitLens did not write: resolveModel(path) returns a BitLens model folder for a
// BitLens folder (as is), a Hugging Face BitNet folder or a BitNet GGUF file (imported once into a
// cache folder keyed by the source's path, sizes and modification times; later calls reuse it).
// importModel converts into a folder you name. Both write atomically: a failed or interrupted import
// leaves nothing behind. See docs/import.md.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Activation } from '../../common/config.js';
import { ModelFormatError } from '../../common/errors.js';
import { GGUF_MAGIC } from '../../common/formats/gguf.js';
import { openGgufFile } from './gguf.js';
import { openHfFolder } from './hf.js';
import { writeImportedModel, type ImportSource, type ProgressCallback } from './source.js';

export type { ImportProgress, ProgressCallback } from './source.js';
export { exportGguf, GGUF_WEIGHT_TYPES, type GgufExportOptions, type GgufWeightType } from './export-gguf.js';

/** Bump when the importers' output changes, so older cache entries are not reused. */
export const IMPORTER_VERSION = 1;

export type SourceKind = 'bitlens' | 'huggingface' | 'gguf';

export interface ImportOptions {
  /** Override the FFN activation (GGUF files of arch "bitnet" do not always say which one). */
  activation?: Activation;
  onProgress?: ProgressCallback;
}

export interface ResolveOptions extends ImportOptions {
  /** Where imported models are cached (default: $BITLENS_CACHE_DIR, else ~/.cache/bitlens/models). */
  cacheDir?: string;
  /** Import again even if the cache has this source. */
  force?: boolean;
}

export interface ResolvedModel {
  /** A BitLens model folder for createEngine. */
  dir: string;
  kind: SourceKind;
  /** True when the folder came from the cache (or is the source itself). */
  cached: boolean;
  /** What the importer recognised (absent for BitLens folders and cache hits). */
  description?: string;
}

export function defaultCacheDir(): string {
  return process.env.BITLENS_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'bitlens', 'models');
}

/** Says what `source` is, from its contents (not its name). */
export async function detectSource(source: string): Promise<SourceKind> {
  const s = await stat(source).catch(() => undefined);
  if (!s) throw new ModelFormatError(source, 'does not exist');
  if (s.isDirectory()) {
    const cfg = await readFile(path.join(source, 'config.json'), 'utf8').catch(() => undefined);
    if (cfg === undefined) throw new ModelFormatError(source, 'folder has no config.json: neither a BitLens nor a Hugging Face model');
    try {
      // Hugging Face configs have no "format" key; one with a wrong value is a broken BitLens config,
      // which the BitLens reader reports by name.
      const json: unknown = JSON.parse(cfg);
      return json !== null && typeof json === 'object' && 'format' in json ? 'bitlens' : 'huggingface';
    } catch (e) {
      throw new ModelFormatError(path.join(source, 'config.json'), `not valid JSON (${(e as Error).message})`);
    }
  }
  const fh = await open(source, 'r');
  try {
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    if (String.fromCharCode(...head) === GGUF_MAGIC) return 'gguf';
  } finally {
    await fh.close();
  }
  throw new ModelFormatError(source, 'not a model: expected a BitLens or Hugging Face model folder, or a GGUF file (magic "GGUF")');
}

async function openSource(source: string, kind: SourceKind, opts: ImportOptions): Promise<ImportSource> {
  if (kind === 'gguf') return openGgufFile(source, opts);
  if (kind === 'huggingface') return openHfFolder(source, opts);
  throw new Error(`${source} is already a BitLens model folder`);
}

/** Converts `source` (Hugging Face folder or GGUF file) into a BitLens model folder at `outDir`. */
export async function importModel(source: string, outDir: string, opts: ImportOptions = {}): Promise<{ kind: SourceKind; description: string }> {
  const kind = await detectSource(source);
  const src = await openSource(source, kind, opts);
  src.config.description ??= `Imported from ${path.basename(path.resolve(source))} (${src.kind})`;
  try {
    await mkdir(path.dirname(path.resolve(outDir)), { recursive: true });
    await writeImportedModel(outDir, src, opts.onProgress);
    return { kind, description: src.kind };
  } finally {
    await src.close();
  }
}

/** Cache key: the source's real path, every file's size and mtime, the importer version, the options. */
async function cacheKey(source: string, opts: ImportOptions): Promise<string> {
  const real = await realpath(source);
  const s = await stat(real);
  const files: [string, number, number][] = [];
  if (s.isDirectory()) {
    for (const f of (await readdir(real)).sort()) {
      const fs = await stat(path.join(real, f)).catch(() => undefined);
      if (fs?.isFile()) files.push([f, fs.size, fs.mtimeMs]);
    }
  } else files.push([path.basename(real), s.size, s.mtimeMs]);
  const h = createHash('sha256').update(JSON.stringify([IMPORTER_VERSION, real, files, opts.activation ?? null]));
  return h.digest('hex').slice(0, 16);
}

/** A BitLens model folder for `source`, importing it into the cache the first time. */
export async function resolveModel(source: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const kind = await detectSource(source);
  if (kind === 'bitlens') return { dir: source, kind, cached: true };
  const name = path.basename(path.resolve(source)).replace(/\.gguf$/i, '').replace(/[^\w.-]+/g, '_');
  const dir = path.join(opts.cacheDir ?? defaultCacheDir(), `${name}-${await cacheKey(source, opts)}`);
  // The folder only ever appears complete (atomic rename), so its config.json marks a finished import.
  if (!opts.force && (await stat(path.join(dir, 'config.json')).catch(() => undefined))) return { dir, kind, cached: true };
  await removeStaleTemps(dir);
  const { description } = await importModel(source, dir, opts);
  return { dir, kind, cached: false, description };
}

// A killed import (power loss, SIGKILL) leaves its temporary folder next to the target; drop those
// that have not been touched for an hour (a running import writes to its folder all the time).
const STALE_MS = 3_600_000;
async function removeStaleTemps(target: string): Promise<void> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}.tmp-`;
  for (const f of await readdir(parent).catch(() => [] as string[])) {
    if (!f.startsWith(prefix)) continue;
    const s = await stat(path.join(parent, f)).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > STALE_MS) await rm(path.join(parent, f), { recursive: true, force: true });
  }
}
