// The model manager: the embedded default model(s) found in modelsDir, plus models the user
// added (validated by reading them fully), and the run options chosen for each, kept in
// <dataDir>/models.json. Hugging Face BitNet folders and GGUF files are imported once into
// <dataDir>/imported (engine/node/import) and the imported BitLens folder is what is remembered.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BitLensError, RunOptionsSchema, type ModelEntry } from '../../contract/index.js';
import type { RunOptions } from '../../engine/common/api.js';
import { parseModelConfig, type ModelConfig } from '../../engine/common/config.js';
import { resolveModel } from '../../engine/node/import/index.js';
import { loadModelDir } from '../../engine/node/model-dir.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import type { StoreProblem } from './store.js';

/** The embedded default comes first when present. */
export const DEFAULT_MODEL_FOLDERS = ['bitlens-v2', 'bitlens-b158'];

const ModelsFileSchema = z.strictObject({
  added: z.array(z.string()),
  run: z.record(z.string(), RunOptionsSchema),
  active: z.string().nullable(),
});
type ModelsFile = z.infer<typeof ModelsFileSchema>;

async function readConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new BitLensError('invalid_model', `${file}: ${(error as Error).message}`);
  }
  return parseModelConfig(json, file);
}

function entryFor(id: string, dir: string, builtin: boolean, config: ModelConfig, run: RunOptions | undefined): ModelEntry {
  return {
    id,
    name: config.name ?? path.basename(dir),
    ...(config.description !== undefined && { description: config.description }),
    dir,
    builtin,
    trainedScheme: config.scheme,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    contextLength: config.maxPositionEmbeddings,
    vocabSize: config.vocabSize,
    run: run ?? { scheme: config.scheme, kvBits: 16, device: 'auto', taps: true },
  };
}

export class ModelManager {
  private readonly entries = new Map<string, ModelEntry>();

  private constructor(
    private readonly file: string,
    private state: ModelsFile,
    private readonly importDir: string,
  ) {}

  static async open(opts: { dataDir: string; modelsDir?: string; report: (p: StoreProblem) => void }): Promise<ModelManager> {
    const file = path.join(opts.dataDir, 'models.json');
    const state = await readJsonFile(file, ModelsFileSchema, { added: [], run: {}, active: null }, opts.report);
    const manager = new ModelManager(file, state, path.join(opts.dataDir, 'imported'));
    if (opts.modelsDir) {
      const folders = (await fs.readdir(opts.modelsDir, { withFileTypes: true }).catch(() => []))
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
      for (const name of folders) {
        const dir = path.join(opts.modelsDir, name);
        try {
          manager.remember(`builtin-${name}`, dir, true, await readConfig(dir));
        } catch (error) {
          opts.report({ message: `embedded model ${dir} skipped: ${(error as Error).message}`, file: dir });
        }
      }
    }
    for (const dir of state.added) {
      try {
        manager.remember(idForFolder(dir), dir, false, await readConfig(dir));
      } catch (error) {
        opts.report({ message: `added model ${dir} is no longer usable: ${(error as Error).message}`, file: dir });
      }
    }
    return manager;
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ModelEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new BitLensError('not_found', `no model with id ${id}`);
    return entry;
  }

  /** The model to load at start: the last one selected, else the embedded default. */
  get activeId(): string | null {
    if (this.state.active && this.entries.has(this.state.active)) return this.state.active;
    return this.entries.keys().next().value ?? null;
  }

  /**
   * Add a BitLens folder, a Hugging Face BitNet folder or a GGUF file (the latter two imported into
   * the app's import cache first), validated completely (config, tokenizer, every tensor).
   */
  async add(folder: string, onProgress?: (fraction: number, stage?: string) => void): Promise<ModelEntry> {
    try {
      const report = onProgress && throttledProgress(onProgress);
      const { dir } = await resolveModel(path.resolve(folder), {
        cacheDir: this.importDir,
        ...(report && { onProgress: (p) => report(p.total > 0 ? p.done / p.total : 1, `writing ${p.tensor}`) }),
      });
      report?.(1, undefined, true);
      const loaded = await loadModelDir(dir);
      const id = idForFolder(dir);
      const entry = this.remember(id, dir, false, loaded.config);
      if (!this.state.added.includes(dir)) {
        this.state.added.push(dir);
        await this.persist();
      }
      return entry;
    } catch (error) {
      if (error instanceof BitLensError) throw error;
      throw new BitLensError('invalid_model', `${folder} cannot be opened as a model: ${(error as Error).message}`);
    }
  }

  async select(id: string, run: RunOptions): Promise<ModelEntry> {
    const entry = this.get(id);
    entry.run = { ...run };
    this.state.run[id] = { ...run };
    this.state.active = id;
    await this.persist();
    return entry;
  }

  private remember(id: string, dir: string, builtin: boolean, config: ModelConfig): ModelEntry {
    const entry = entryFor(id, dir, builtin, config, this.state.run[id]);
    this.entries.set(id, entry);
    return entry;
  }

  private persist(): Promise<void> {
    return writeJsonFile(this.file, this.state);
  }
}

/** Limits progress reports to one per IMPORT_PROGRESS_MS (the UI needs no more), plus the final one. */
const IMPORT_PROGRESS_MS = 100;
function throttledProgress(report: (fraction: number, stage?: string) => void) {
  let last = -Infinity;
  return (fraction: number, stage: string | undefined, final = false): void => {
    const now = performance.now();
    if (!final && now - last < IMPORT_PROGRESS_MS) return;
    last = now;
    report(Math.min(1, Math.max(0, fraction)), stage);
  };
}

function rank(folder: string): number {
  const i = DEFAULT_MODEL_FOLDERS.indexOf(folder);
  return i < 0 ? DEFAULT_MODEL_FOLDERS.length : i;
}

function idForFolder(dir: string): string {
  const slug = path.basename(dir).replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'model';
  return `local-${slug}-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
}
