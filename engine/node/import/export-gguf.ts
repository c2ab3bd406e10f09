// Writes a BitLens model as a BitNet GGUF that llama.cpp (TQ1_0 / TQ2_0 / F16 / F32) or bitnet.cpp
// (I2_S, arch "bitnet-b1.58") loads: llama.cpp's tensor and metadata names (formats/bitnet-gguf.ts),
// tokenizer in tokenizer.ggml.*, chat template in tokenizer.chat_template. Streams tensor by tensor
// into a temporary file renamed into place, so memory stays at one tensor and no partial file is
// left behind.
//   npx tsx scripts/make-checkpoint.ts --from DIR --gguf tq2_0 --out model.gguf   (or the API below)
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ModelConfig } from '../../common/config.js';
import { f32ToBytes, f32ToF16Bytes } from '../../common/f16.js';
import { BITNET_ARCHS, bitnetGgufMetadata, GGUF_FILE_TYPES, GGUF_NORM_NAMES, GGUF_PROJECTION_NAMES } from '../../common/formats/bitnet-gguf.js';
import { ggufLayout, type GgmlType, type GgufMetaValue, type GgufTensorSpec } from '../../common/formats/gguf.js';
import { ggufTokenizerMetadata } from '../../common/formats/gguf-tokenizer.js';
import { quantizeQ4_K, quantizeQ6_K, quantizeQ8_0 } from '../../common/formats/kquants.js';
import { encodeI2S, encodeTq1_0, encodeTq2_0, f32ToBf16Bytes } from '../../common/formats/ternary-codecs.js';
import { unpackTernary } from '../../common/ternary.js';
import { PROJECTIONS, type BitLinearWeights, type ModelWeights } from '../../common/weights.js';

export const GGUF_WEIGHT_TYPES = ['TQ2_0', 'TQ1_0', 'I2_S', 'F16', 'F32'] as const;
export type GgufWeightType = (typeof GGUF_WEIGHT_TYPES)[number];

export interface GgufExportOptions {
  /** Type of the 7 projections per layer. */
  weightType: GgufWeightType;
  /** Default "bitnet" (llama.cpp); bitnet.cpp expects "bitnet-b1.58" for I2_S. */
  arch?: (typeof BITNET_ARCHS)[number];
  /**
   * Embedding / output type (default F16). Q8_0 as llama.cpp's reference quantizer; Q6_K / Q4_K with
   * plain absmax / min-max scales (what downloaded GGUFs often carry, smaller than llama.cpp's search).
   */
  embedType?: 'F16' | 'F32' | 'BF16' | 'Q8_0' | 'Q6_K' | 'Q4_K';
  /**
   * Per projection, store the ternary codes with d = 1 plus an f32 `blk.N.<proj>.scale` tensor
   * (exact alpha), instead of d = alpha in every block (f16-rounded alpha, what llama.cpp's own
   * converter + quantizer produce). TQ types only.
   */
  separateScale?: boolean;
  name?: string;
}

export interface ExportableModel {
  config: ModelConfig;
  weights: ModelWeights;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
}

interface Planned extends GgufTensorSpec {
  data: () => Uint8Array;
}

function projectionData(w: BitLinearWeights, type: GgufWeightType, separateScale: boolean): Uint8Array {
  const values = unpackTernary(w.packed, w.rows, w.cols);
  const d = separateScale ? 1 : w.alpha;
  switch (type) {
    case 'TQ2_0': return encodeTq2_0(values, d);
    case 'TQ1_0': return encodeTq1_0(values, d);
    case 'I2_S': return encodeI2S(values, w.alpha);
    case 'F16':
    case 'F32': {
      const f = new Float32Array(values.length);
      for (let i = 0; i < f.length; i++) f[i] = values[i] * w.alpha;
      return type === 'F16' ? f32ToF16Bytes(f) : f32ToBytes(f);
    }
  }
}

// Uses the stored F16 bits when there are some (reading `embed` of a file-backed model converts all of it).
function matrixData(values: () => Float32Array, f16: Uint16Array | undefined, type: NonNullable<GgufExportOptions['embedType']>): Uint8Array {
  if (type === 'F16' && f16) return new Uint8Array(f16.buffer, f16.byteOffset, f16.byteLength);
  const x = values();
  switch (type) {
    case 'F16': return f32ToF16Bytes(x);
    case 'BF16': return f32ToBf16Bytes(x);
    case 'F32': return f32ToBytes(x);
    case 'Q8_0': return quantizeQ8_0(x);
    case 'Q6_K': return quantizeQ6_K(x);
    case 'Q4_K': return quantizeQ4_K(x);
  }
}

/** Metadata + tensor plan for a model (exported for tests and tools that want the layout only). */
export function planBitnetGguf(m: ExportableModel, opts: GgufExportOptions): { metadata: [string, GgufMetaValue][]; tensors: Planned[] } {
  const c = m.config;
  const wt = opts.weightType;
  const separate = !!opts.separateScale && (wt === 'TQ2_0' || wt === 'TQ1_0');
  const embedType = opts.embedType ?? 'F16';
  const fileType = GGUF_FILE_TYPES[wt];
  const tc = m.tokenizerConfig;
  const tplRaw = tc.chat_template;
  const eot = c.eosTokenIds.find((id) => id !== c.eosTokenIds[0]);
  const metadata: [string, GgufMetaValue][] = [
    ...bitnetGgufMetadata(c, { arch: opts.arch, fileType, name: opts.name }),
    ...ggufTokenizerMetadata(m.tokenizerJson, {
      vocabSize: c.vocabSize,
      bosTokenId: c.bosTokenId,
      eosTokenId: c.eosTokenIds[0],
      eotTokenId: eot,
      chatTemplate: typeof tplRaw === 'string' ? tplRaw : undefined,
    }),
  ];
  const w = m.weights;
  const d = c.hiddenSize;
  const tensors: Planned[] = [
    { name: 'token_embd.weight', type: embedType, ne: [d, c.vocabSize], data: () => matrixData(() => w.embed, w.embedF16, embedType) },
  ];
  w.layers.forEach((layer, i) => {
    for (const [key, stem] of Object.entries(GGUF_NORM_NAMES) as [keyof typeof GGUF_NORM_NAMES, string][]) {
      tensors.push({ name: `blk.${i}.${stem}.weight`, type: 'F32', ne: [layer[key].length], data: () => f32ToBytes(layer[key]) });
    }
    for (const p of PROJECTIONS) {
      const bl = layer[p];
      const stem = `blk.${i}.${GGUF_PROJECTION_NAMES[p]}`;
      tensors.push({ name: `${stem}.weight`, type: wt as GgmlType, ne: [bl.cols, bl.rows], data: () => projectionData(bl, wt, separate) });
      if (separate) tensors.push({ name: `${stem}.scale`, type: 'F32', ne: [1], data: () => f32ToBytes(Float32Array.of(bl.alpha)) });
    }
  });
  tensors.push({ name: 'output_norm.weight', type: 'F32', ne: [d], data: () => f32ToBytes(w.norm) });
  if (!c.tieWordEmbeddings) tensors.push({ name: 'output.weight', type: embedType, ne: [d, c.vocabSize], data: () => matrixData(() => w.lmHead!, w.lmHeadF16, embedType) });
  return { metadata, tensors };
}

/** Writes `m` as a GGUF file at `file` (atomically). Returns the file size. */
export async function exportGguf(m: ExportableModel, file: string, opts: GgufExportOptions, onProgress?: (done: number, total: number) => void): Promise<number> {
  const { metadata, tensors } = planBitnetGguf(m, opts);
  const layout = ggufLayout(metadata, tensors);
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.write(layout.header, 0, layout.header.length, 0);
    for (let i = 0; i < tensors.length; i++) {
      const data = tensors[i].data();
      const { offset, byteLength } = layout.tensors[i];
      if (data.length !== byteLength) throw new Error(`tensor '${tensors[i].name}': ${data.length} bytes, expected ${byteLength}`);
      await fh.write(data, 0, data.length, offset);
      onProgress?.(i + 1, tensors.length);
    }
    await fh.truncate(layout.fileSize); // zero padding after the last tensor
    await fh.close();
    await rename(tmp, target);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  return layout.fileSize;
}
