// What every importer produces: a model described tensor by tensor in the BitLens layout, and the
// one writer that turns it into a model folder (docs/model-format.md) in bounded memory: the
// safetensors header first, then each tensor as the source yields it, into a temporary folder that
// is renamed into place only when complete.
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configToJson, parseModelConfig, type ModelConfig } from '../../common/config.js';
import { ModelFormatError } from '../../common/errors.js';
import { f32ToBytes, f32ToF16Bytes } from '../../common/f16.js';
import { safetensorsHeader, tensorByteLength, type TensorSpec } from '../../common/safetensors.js';
import { ternarize } from '../../common/ternary.js';
import { modelTensorSpecs } from '../../common/weights.js';
import { MODEL_FILES, writeModelDirAtomic } from '../model-dir.js';

export interface ImportProgress {
  /** BitLens tensor being written. */
  tensor: string;
  /** Output bytes written so far / in total. */
  done: number;
  total: number;
}
export type ProgressCallback = (p: ImportProgress) => void;

export interface ImportSource {
  /** What was recognised, e.g. "Hugging Face BitNet (packed ternary)". */
  kind: string;
  config: ModelConfig;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  /** The bytes of one BitLens tensor (modelTensorSpecs order), in chunks. */
  tensor(spec: TensorSpec): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Writes `src` as a BitLens model folder at `dir` (atomically). */
export async function writeImportedModel(dir: string, src: ImportSource, onProgress?: ProgressCallback): Promise<void> {
  const cfgJson = configToJson(src.config);
  parseModelConfig(cfgJson, `${src.kind}: derived config.json`); // refuse before writing anything
  const specs = modelTensorSpecs(src.config);
  const total = specs.reduce((a, s) => a + tensorByteLength(s), 0);
  await writeModelDirAtomic(dir, async (tmp) => {
    await writeFile(path.join(tmp, MODEL_FILES.config), `${JSON.stringify(cfgJson, null, 2)}\n`);
    await writeFile(path.join(tmp, MODEL_FILES.tokenizer), JSON.stringify(src.tokenizerJson));
    await writeFile(path.join(tmp, MODEL_FILES.tokenizerConfig), `${JSON.stringify(src.tokenizerConfig, null, 2)}\n`);
    const fh = await open(path.join(tmp, MODEL_FILES.weights), 'w');
    try {
      await fh.write(safetensorsHeader(specs));
      let done = 0;
      for (const spec of specs) {
        const want = tensorByteLength(spec);
        let got = 0;
        for await (const chunk of src.tensor(spec)) {
          got += chunk.length;
          await fh.write(chunk);
        }
        if (got !== want) throw new Error(`importer bug: tensor '${spec.name}' produced ${got} bytes, expected ${want}`);
        done += want;
        onProgress?.({ tensor: spec.name, done, total });
      }
    } finally {
      await fh.close();
    }
  });
}

/**
 * Ternary values and alpha from a full-precision projection: exactly `alpha * {-1, 0, +1}` (a
 * dequantized ternary tensor, as llama.cpp's converter writes) keeps that alpha; anything else is a
 * latent weight and is ternarized with absmean (spec: "Weights, ternary, per tensor").
 */
export function ternaryFromFloats(w: Float32Array): { values: Int8Array; alpha: number } {
  let a = 0;
  for (let i = 0; i < w.length; i++) {
    const x = Math.abs(w[i]);
    if (x !== 0) {
      if (a === 0) a = x;
      else if (x !== a) return ternarize(w);
    }
  }
  const values = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) values[i] = w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0;
  return { values, alpha: a };
}

/** F32 bytes of finite floats, or a ModelFormatError naming the tensor. */
export function finiteF32Bytes(x: Float32Array, file: string, tensor: string): Uint8Array {
  const bad = x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ModelFormatError(file, `contains ${x[bad]} at element ${bad}`, tensor);
  return f32ToBytes(x);
}

/** F16 bytes of finite floats that fit F16 (embeddings), or a ModelFormatError naming the tensor. */
export function finiteF16Bytes(x: Float32Array, file: string, tensor: string): Uint8Array {
  const bad = x.findIndex((v) => !Number.isFinite(v) || Math.abs(v) > 65504);
  if (bad >= 0) throw new ModelFormatError(file, `value ${x[bad]} at element ${bad} is not finite in F16`, tensor);
  return f32ToF16Bytes(x);
}

export function alphaBytes(alpha: number, file: string, tensor: string): Uint8Array {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new ModelFormatError(file, `scale ${alpha} must be finite and >= 0`, tensor);
  return f32ToBytes(Float32Array.of(alpha));
}

/** Refuses a tensor whose shape differs from what the config implies, naming file and tensor. */
export function checkShape(file: string, tensor: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new ModelFormatError(file, `shape ${JSON.stringify(got)} does not match the config, expected ${JSON.stringify(want)}`, tensor);
  }
}
