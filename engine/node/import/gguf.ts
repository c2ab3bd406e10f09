// BitNet GGUF files (llama.cpp TQ1_0 / TQ2_0 / F16 / F32 / BF16, bitnet.cpp I2_S) -> ImportSource.
// Config from the architecture metadata, tokenizer from tokenizer.ggml.*, chat template from
// tokenizer.chat_template. A ternary tensor's alpha is the block scale d shared by all blocks with a
// non-zero weight (llama.cpp stores alpha * w and quantizes with d = block absmax = alpha) or the
// I2_S tensor scale, times the optional `<proj>.scale` tensor.
import type { Activation, ModelConfig } from '../../common/config.js';
import { ModelFormatError } from '../../common/errors.js';
import { f16BytesToF32, f32BytesToF32 } from '../../common/f16.js';
import { configFromGguf, GGUF_NORM_NAMES, GGUF_PROJECTION_NAMES } from '../../common/formats/bitnet-gguf.js';
import type { GgufHeader, GgufTensorInfo } from '../../common/formats/gguf.js';
import { tokenizerFromGguf } from '../../common/formats/gguf-tokenizer.js';
import { DEQUANT_TYPES, dequantize, type DequantType } from '../../common/formats/kquants.js';
import { bf16BytesToF32, decodeI2S, decodeTq1_0, decodeTq2_0, TernaryCodeError } from '../../common/formats/ternary-codecs.js';
import type { TensorSpec } from '../../common/safetensors.js';
import { packTernary } from '../../common/ternary.js';
import { modelTensorSpecs, projectionShape, type Projection } from '../../common/weights.js';
import { FileReader, readGgufHeader } from './files.js';
import { alphaBytes, checkShape, finiteF16Bytes, finiteF32Bytes, ternaryFromFloats, type ImportSource } from './source.js';

const FLOAT_TYPES = ['F32', 'F16', 'BF16'];
const TERNARY_TYPES = ['TQ1_0', 'TQ2_0', 'I2_S'];
const EMBED_CHUNK_ROWS_BYTES = 1 << 23;

/** Maps a BitLens tensor name to the GGUF tensor it comes from. */
function ggufName(name: string): string {
  if (name === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (name === 'model.norm.weight') return 'output_norm.weight';
  if (name === 'lm_head.weight') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(name);
  if (m) {
    const [, i, rest] = m;
    const norm: Record<string, string> = {
      input_layernorm: GGUF_NORM_NAMES.inputNorm,
      'self_attn.attn_sub_norm': GGUF_NORM_NAMES.attnSubNorm,
      post_attention_layernorm: GGUF_NORM_NAMES.postAttnNorm,
      'mlp.ffn_sub_norm': GGUF_NORM_NAMES.ffnSubNorm,
    };
    if (norm[rest]) return `blk.${i}.${norm[rest]}.weight`;
    const p = /^(?:self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj$/.exec(rest);
    if (p) return `blk.${i}.${GGUF_PROJECTION_NAMES[p[1] as Projection]}.weight`;
  }
  throw new Error(`no GGUF name for '${name}'`);
}

/** Float values of F32 / F16 / BF16 bytes, or of whole Q8_0 / Q4_K / Q6_K blocks (embeddings). */
function floats(info: GgufTensorInfo, bytes: Uint8Array, n: number): Float32Array {
  if ((DEQUANT_TYPES as readonly string[]).includes(info.type)) return dequantize(info.type as DequantType, bytes, n);
  return info.type === 'F32' ? f32BytesToF32(bytes) : info.type === 'F16' ? f16BytesToF32(bytes) : bf16BytesToF32(bytes);
}

/** Ternary values and alpha of a projection tensor (see the file comment). */
function decodeProjection(info: GgufTensorInfo, bytes: Uint8Array, file: string): { values: Int8Array; alpha: number } {
  const n = info.ne[0] * info.ne[1];
  const fail = (problem: string): never => {
    throw new ModelFormatError(file, problem, info.name);
  };
  try {
    if (info.type === 'I2_S') {
      const { values, scale } = decodeI2S(bytes, n);
      return { values, alpha: scale };
    }
    if (info.type === 'TQ1_0' || info.type === 'TQ2_0') {
      const { values, d } = info.type === 'TQ2_0' ? decodeTq2_0(bytes, n) : decodeTq1_0(bytes, n);
      let alpha: number | undefined;
      for (let b = 0; b < d.length; b++) {
        let nonzero = false;
        for (let i = b * 256; i < (b + 1) * 256 && !nonzero; i++) nonzero = values[i] !== 0;
        if (!nonzero) continue;
        if (alpha === undefined) alpha = d[b];
        else if (d[b] !== alpha) fail(`block ${b} has scale ${d[b]} but earlier blocks ${alpha}: not one ternary scale per tensor (BitNet), so it cannot be imported exactly`);
      }
      return { values, alpha: alpha ?? 0 };
    }
    const w = floats(info, bytes, n);
    const bad = w.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) fail(`contains ${w[bad]} at element ${bad}`);
    return ternaryFromFloats(w);
  } catch (e) {
    if (e instanceof TernaryCodeError) fail(e.message);
    throw e;
  }
}

/** Opens a BitNet GGUF file for import; validates names, types and shapes against the metadata. */
export async function openGgufFile(file: string, opts: { activation?: Activation } = {}): Promise<ImportSource> {
  const reader = await FileReader.open(file);
  try {
    const header = await readGgufHeader(reader);
    return buildSource(file, reader, header, opts);
  } catch (e) {
    await reader.close();
    throw e;
  }
}

function buildSource(file: string, reader: FileReader, h: GgufHeader, opts: { activation?: Activation }): ImportSource {
  const tok = tokenizerFromGguf(h, file);
  const config: ModelConfig = configFromGguf(h, file, tok, opts);
  const byName = new Map(h.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const get = (name: string, types: string[], ne: number[]): GgufTensorInfo => {
    const t = byName.get(name);
    if (!t) throw new ModelFormatError(file, 'missing', name);
    used.add(name);
    if (!types.includes(t.type)) throw new ModelFormatError(file, `type ${t.type} is not supported here (expected ${types.join(', ')})`, name);
    checkShape(file, name, t.ne, ne);
    return t;
  };
  const read = (t: GgufTensorInfo, offset = 0, length = t.byteLength) => reader.read(t.offset + offset, length, t.name);

  const d = config.hiddenSize;
  const plan = new Map<string, () => AsyncIterable<Uint8Array>>();
  const alphas = new Map<string, number>();
  for (const spec of modelTensorSpecs(config)) {
    const name = spec.name;
    if (name.endsWith('.weight_scale')) {
      const base = name.slice(0, -'.weight_scale'.length);
      plan.set(name, async function* () {
        yield alphaBytes(alphas.get(base)!, file, name);
      });
      continue;
    }
    const gname = ggufName(name);
    const proj = /_proj\.weight$/.test(name) ? (/(q|k|v|o|gate|up|down)_proj/.exec(name)![1] as Projection) : undefined;
    if (proj) {
      const [rows, cols] = projectionShape(config, proj);
      const t = get(gname, [...TERNARY_TYPES, ...FLOAT_TYPES], [cols, rows]);
      const scaleName = gname.replace(/\.weight$/, '.scale');
      const scale = byName.has(scaleName) ? get(scaleName, ['F32'], [1]) : undefined;
      const base = name.slice(0, -'.weight'.length);
      plan.set(name, async function* () {
        const { values, alpha } = decodeProjection(t, await read(t), file);
        const s = scale ? f32BytesToF32(await read(scale))[0] : 1;
        alphas.set(base, alpha * s);
        yield packTernary(values, rows, cols);
      });
      continue;
    }
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') {
      // llama-quantize often stores these as K-quants; they are decoded (to F16 in BitLens).
      const t = get(gname, [...FLOAT_TYPES, ...DEQUANT_TYPES], [d, config.vocabSize]);
      plan.set(name, async function* () {
        const rowBytes = t.byteLength / config.vocabSize;
        const rowsPerChunk = Math.max(1, Math.floor(EMBED_CHUNK_ROWS_BYTES / rowBytes));
        for (let row = 0; row < config.vocabSize; row += rowsPerChunk) {
          const n = Math.min(rowsPerChunk, config.vocabSize - row);
          yield finiteF16Bytes(floats(t, await read(t, row * rowBytes, n * rowBytes), n * d), file, `${gname} (rows ${row}..${row + n - 1})`);
        }
      });
      continue;
    }
    const t = get(gname, FLOAT_TYPES, [...spec.shape].reverse());
    plan.set(name, async function* () {
      yield finiteF32Bytes(floats(t, await read(t), spec.shape[0]), file, gname);
    });
  }
  const unknown = h.tensors.find((t) => !used.has(t.name));
  if (unknown) throw new ModelFormatError(file, `unknown tensor (type ${unknown.type}); not part of a ${config.numLayers}-layer BitNet model`, unknown.name);
  const types = [...new Set(h.tensors.filter((t) => /attn_q\.weight$/.test(t.name)).map((t) => t.type))];
  return {
    kind: `GGUF BitNet (${types.join(', ')} weights)`,
    config,
    tokenizerJson: tok.tokenizerJson,
    tokenizerConfig: tok.tokenizerConfig,
    tensor: (spec: TensorSpec) => plan.get(spec.name)!(),
    close: () => reader.close(),
  };
}
