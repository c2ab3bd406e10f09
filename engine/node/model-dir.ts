// Reading and writing a model folder (docs/model-format.md) on disk. Every problem with the folder
// becomes a ModelFormatError naming the file.
import { chmod, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configToJson, parseModelConfig, type ModelConfig } from '../common/config.js';
import { ModelFormatError } from '../common/errors.js';
import { parseSafetensors } from '../common/safetensors.js';
import { weightsFromSafetensors, weightsToSafetensors, type ModelWeights } from '../common/weights.js';

export const MODEL_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  golden: 'golden.json',
} as const;

export interface LoadedModel {
  dir: string;
  config: ModelConfig;
  weights: ModelWeights;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  golden?: unknown;
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFormatError(file, code === 'ENOENT' ? 'file is missing' : `cannot read (${(e as Error).message})`);
  }
}

async function readJson(file: string): Promise<unknown> {
  const bytes = await readBytes(file);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new ModelFormatError(dir, s ? 'not a folder (a model is a folder, docs/model-format.md)' : 'model folder does not exist');
  const file = (name: string) => path.join(dir, name);

  const config = parseModelConfig(await readJson(file(MODEL_FILES.config)), file(MODEL_FILES.config));
  const tokenizerJson = await readJson(file(MODEL_FILES.tokenizer));
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
    throw new ModelFormatError(file(MODEL_FILES.tokenizer), 'not a Hugging Face tokenizers file (no "model" key)');
  }
  const tokenizerConfig = await readJson(file(MODEL_FILES.tokenizerConfig));
  if (typeof tokenizerConfig !== 'object' || tokenizerConfig === null || Array.isArray(tokenizerConfig)) {
    throw new ModelFormatError(file(MODEL_FILES.tokenizerConfig), 'must be a JSON object');
  }
  const weightsFile = file(MODEL_FILES.weights);
  const weights = weightsFromSafetensors(config, parseSafetensors(await readBytes(weightsFile), weightsFile), weightsFile);
  const model: LoadedModel = { dir, config, weights, tokenizerJson, tokenizerConfig: tokenizerConfig as Record<string, unknown> };
  if (await exists(file(MODEL_FILES.golden))) model.golden = await readJson(file(MODEL_FILES.golden));
  return model;
}

/**
 * Creates `dir` atomically: `fill` writes into a temporary folder next to it, which is then renamed
 * into place (replacing an existing `dir`), so a crash never leaves a half-written model behind.
 */
export async function writeModelDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = path.resolve(dir);
  const tmp = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    await chmod(tmp, 0o755); // mkdtemp makes it private; a model folder is an ordinary folder
    await fill(tmp);
    if (await exists(target)) {
      const old = `${tmp}.old`;
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(old, target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface ModelDirContents {
  config: ModelConfig;
  weights: ModelWeights;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  golden?: unknown;
}

const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;

/** Writes a complete model folder (atomically, see writeModelDirAtomic). */
export async function writeModelDir(dir: string, m: ModelDirContents): Promise<void> {
  const bytes = weightsToSafetensors(m.weights);
  await writeModelDirAtomic(dir, async (tmp) => {
    await writeFile(path.join(tmp, MODEL_FILES.config), json(configToJson(m.config)));
    await writeFile(path.join(tmp, MODEL_FILES.tokenizer), JSON.stringify(m.tokenizerJson));
    await writeFile(path.join(tmp, MODEL_FILES.tokenizerConfig), json(m.tokenizerConfig));
    await writeFile(path.join(tmp, MODEL_FILES.weights), bytes);
    if (m.golden !== undefined) await writeFile(path.join(tmp, MODEL_FILES.golden), json(m.golden));
  });
}
