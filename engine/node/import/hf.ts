// Hugging Face checkpoint folders -> ImportSource (docs/import.md):
//   - microsoft/bitnet-b1.58-2B-4T: BitNetForCausalLM, packed ternary uint8 [out/4, in] + weight_scale
//     (transformers' AutoBitLinear, quantization_mode "offline": output * weight_scale, so the
//     stored scale is alpha), relu2, SubLN (attn_sub_norm / ffn_sub_norm), bf16 norms/embeddings.
//   - the bf16 master variant (-bf16): same names, BF16 latent weights, ternarized with absmean.
//   - 1bitLLM bitnet_b1_58-*: LLaMA layout with SubLN named self_attn.inner_attn_ln and
//     mlp.ffn_layernorm, SwiGLU, fp32/fp16 latent weights, untied lm_head; quantized on load.
// Everything is checked against config.json from the safetensors headers before anything is written;
// tensors are then read one at a time (embeddings in row chunks).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Activation, ModelConfig } from '../../common/config.js';
import { ModelFormatError } from '../../common/errors.js';
import { f16BytesToF32, f32BytesToF32 } from '../../common/f16.js';
import { bf16BytesToF32, decodeHfPacked, TernaryCodeError } from '../../common/formats/ternary-codecs.js';
import type { TensorSpec } from '../../common/safetensors.js';
import { packTernary, ternarize } from '../../common/ternary.js';
import { modelTensorSpecs, projectionName, projectionShape, type Projection } from '../../common/weights.js';
import { FileReader, readSafetensorsIndex, type SafetensorsEntry } from './files.js';
import { alphaBytes, checkShape, finiteF16Bytes, finiteF32Bytes, type ImportSource } from './source.js';

export const HF_ARCHITECTURES = ['BitNetForCausalLM', 'BitnetForCausalLM', 'LlamaForCausalLM'];
const ACTIVATIONS: Record<string, Activation> = { relu2: 'relu2glu', silu: 'swiglu', swish: 'swiglu' };
// Other names of the SubLN weights (1bitLLM's modeling_bitnet.py).
const ALIASES: Record<string, string[]> = {
  'self_attn.attn_sub_norm': ['self_attn.inner_attn_ln'],
  'mlp.ffn_sub_norm': ['mlp.ffn_layernorm'],
};
const FLOAT_DTYPES = ['BF16', 'F16', 'F32'];
const EMBED_CHUNK_BYTES = 1 << 23;

interface Ref {
  reader: FileReader;
  entry: SafetensorsEntry;
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelFormatError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file is missing' : `cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
}

function configFromHf(raw: Record<string, unknown>, file: string, hasLmHead: boolean, eosExtra: number[], opts: { activation?: Activation; name: string }): ModelConfig {
  const fail = (key: string, problem: string): never => {
    throw new ModelFormatError(file, `'${key}': ${problem}`);
  };
  const int = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) return fail(key, `expected a positive integer, got ${JSON.stringify(raw[key])}`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) return fail(key, `expected a positive number, got ${JSON.stringify(raw[key])}`);
    return v;
  };
  const archs = raw.architectures;
  if (Array.isArray(archs) && !archs.some((a) => HF_ARCHITECTURES.includes(a))) {
    fail('architectures', `${JSON.stringify(archs)} is not a BitNet model (expected one of ${HF_ARCHITECTURES.join(', ')})`);
  }
  const act = raw.hidden_act;
  const activation = opts.activation ?? ACTIVATIONS[act as string];
  if (!activation) fail('hidden_act', `${JSON.stringify(act)} is not supported (relu2, silu)`);
  const rs = raw.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs && !((rs.type ?? rs.rope_type) === 'linear' && rs.factor === 1)) fail('rope_scaling', `${JSON.stringify(rs)} is not supported (BitLens uses plain RoPE)`);
  const hidden = int('hidden_size');
  const heads = int('num_attention_heads');
  if (raw.head_dim !== undefined && raw.head_dim !== hidden / heads) fail('head_dim', `${JSON.stringify(raw.head_dim)} must be hidden_size / num_attention_heads`);
  const eosRaw = raw.eos_token_id;
  const eos = (Array.isArray(eosRaw) ? eosRaw : eosRaw === undefined || eosRaw === null ? [] : [eosRaw]) as number[];
  if (!eos.every((e) => Number.isSafeInteger(e))) fail('eos_token_id', `expected a token id or a list of them, got ${JSON.stringify(eosRaw)}`);
  const eosIds = [...new Set([...eos, ...eosExtra])];
  if (!eosIds.length) fail('eos_token_id', 'missing');
  const tie = raw.tie_word_embeddings;
  if (tie !== undefined && typeof tie !== 'boolean') fail('tie_word_embeddings', 'expected true or false');
  return {
    vocabSize: int('vocab_size'),
    hiddenSize: hidden,
    numLayers: int('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: int('num_key_value_heads', heads),
    headDim: hidden / heads,
    intermediateSize: int('intermediate_size'),
    activation: activation!,
    rmsNormEps: num('rms_norm_eps', 1e-5),
    ropeTheta: num('rope_theta', 10000),
    maxPositionEmbeddings: int('max_position_embeddings'),
    tieWordEmbeddings: tie === undefined ? !hasLmHead : (tie as boolean),
    subln: true,
    scheme: 'b1.58',
    bosTokenId: Number.isSafeInteger(raw.bos_token_id) ? (raw.bos_token_id as number) : fail('bos_token_id', 'missing'),
    eosTokenIds: eosIds,
    name: opts.name,
  };
}

async function openWeightFiles(dir: string): Promise<{ readers: FileReader[]; refs: Map<string, Ref> }> {
  const single = path.join(dir, 'model.safetensors');
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (await stat(single).then(() => true, () => false)) files = [single];
  else {
    const index = (await readJson(indexFile, false)) as { weight_map?: Record<string, string> } | undefined;
    if (!index) {
      const bin = await stat(path.join(dir, 'pytorch_model.bin')).then(() => true, () => false);
      throw new ModelFormatError(dir, bin ? 'has pytorch_model.bin only; BitLens reads safetensors checkpoints' : 'no model.safetensors or model.safetensors.index.json');
    }
    if (typeof index.weight_map !== 'object' || index.weight_map === null) throw new ModelFormatError(indexFile, "no 'weight_map' object");
    files = [...new Set(Object.values(index.weight_map))].map((f) => {
      if (typeof f !== 'string' || f.includes('/') || f.includes('\\')) throw new ModelFormatError(indexFile, `weight_map names ${JSON.stringify(f)}, not a file in the folder`);
      return path.join(dir, f);
    });
  }
  const readers: FileReader[] = [];
  const refs = new Map<string, Ref>();
  try {
    for (const f of files) {
      const reader = await FileReader.open(f);
      readers.push(reader);
      for (const entry of (await readSafetensorsIndex(reader)).values()) {
        if (refs.has(entry.name)) throw new ModelFormatError(f, `also in ${refs.get(entry.name)!.reader.file}`, entry.name);
        refs.set(entry.name, { reader, entry });
      }
    }
  } catch (e) {
    await Promise.all(readers.map((r) => r.close()));
    throw e;
  }
  return { readers, refs };
}

async function readFloats(ref: Ref, offset = 0, length = ref.entry.byteLength): Promise<Float32Array> {
  const { reader, entry } = ref;
  const bytes = await reader.read(entry.offset + offset, length, entry.name);
  switch (entry.dtype) {
    case 'F32': return f32BytesToF32(bytes);
    case 'F16': return f16BytesToF32(bytes);
    case 'BF16': return bf16BytesToF32(bytes);
    default: throw new ModelFormatError(reader.file, `dtype ${entry.dtype}, expected ${FLOAT_DTYPES.join(', ')}`, entry.name);
  }
}

/** Opens a Hugging Face BitNet folder for import; validates every tensor's presence, dtype and shape. */
export async function openHfFolder(dir: string, opts: { activation?: Activation } = {}): Promise<ImportSource> {
  const cfgFile = path.join(dir, 'config.json');
  const raw = (await readJson(cfgFile, true)) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFormatError(cfgFile, 'must be a JSON object');
  const tokFile = path.join(dir, 'tokenizer.json');
  const tokenizerJson = await readJson(tokFile, false);
  if (tokenizerJson === undefined) {
    const sp = await stat(path.join(dir, 'tokenizer.model')).then(() => true, () => false);
    throw new ModelFormatError(tokFile, sp ? 'file is missing (only a SentencePiece tokenizer.model is there; BitLens needs tokenizer.json)' : 'file is missing');
  }
  const tokenizerConfig = ((await readJson(path.join(dir, 'tokenizer_config.json'), false)) ?? {}) as Record<string, unknown>;
  if (typeof tokenizerConfig.chat_template !== 'string') {
    const jinja = await readFile(path.join(dir, 'chat_template.jinja'), 'utf8').catch(() => undefined);
    if (jinja !== undefined) tokenizerConfig.chat_template = jinja;
  }
  // <|eot_id|> ends an assistant turn in Llama-3 chat; generation_config.json lists the stop ids.
  const gen = (await readJson(path.join(dir, 'generation_config.json'), false).catch(() => undefined)) as { eos_token_id?: unknown } | undefined;
  const genEos = Array.isArray(gen?.eos_token_id) ? gen.eos_token_id : Number.isSafeInteger(gen?.eos_token_id) ? [gen!.eos_token_id] : [];
  const added = ((tokenizerJson as { added_tokens?: { id: number; content: string }[] }).added_tokens ?? []).find((t) => t.content === '<|eot_id|>');
  const eosExtra = [...(genEos as number[]).filter((x) => Number.isSafeInteger(x)), ...(added ? [added.id] : [])];

  const { readers, refs } = await openWeightFiles(dir);
  try {
    const config = configFromHf(raw, cfgFile, refs.has('lm_head.weight'), eosExtra, { activation: opts.activation, name: path.basename(path.resolve(dir)) });
    config.eosTokenIds = config.eosTokenIds.filter((e) => e < config.vocabSize);
    return buildSource(config, refs, readers, tokenizerJson, tokenizerConfig);
  } catch (e) {
    await Promise.all(readers.map((r) => r.close()));
    throw e;
  }
}

function buildSource(config: ModelConfig, refs: Map<string, Ref>, readers: FileReader[], tokenizerJson: unknown, tokenizerConfig: Record<string, unknown>): ImportSource {
  const used = new Set<string>();
  const find = (name: string): Ref => {
    const m = /^model\.layers\.\d+\.(.+)\.weight$/.exec(name);
    const candidates = [name, ...(m && ALIASES[m[1]] ? ALIASES[m[1]].map((a) => name.replace(m[1], a)) : [])];
    for (const c of candidates) {
      const r = refs.get(c);
      if (r) {
        used.add(c);
        return r;
      }
    }
    throw new ModelFormatError(readers[0].file, `missing${candidates.length > 1 ? ` (also looked for ${candidates.slice(1).join(', ')})` : ''}`, name);
  };
  const floatRef = (name: string, shape: number[]): Ref => {
    const r = find(name);
    if (!FLOAT_DTYPES.includes(r.entry.dtype)) throw new ModelFormatError(r.reader.file, `dtype ${r.entry.dtype}, expected ${FLOAT_DTYPES.join(', ')}`, r.entry.name);
    checkShape(r.reader.file, r.entry.name, r.entry.shape, shape);
    return r;
  };

  // Check everything up front, from the headers alone.
  const packed = find(`${projectionName(0, 'q')}.weight`).entry.dtype === 'U8';
  const plan = new Map<string, () => AsyncIterable<Uint8Array>>();
  const alphas = new Map<string, number>();
  const d = config.hiddenSize;
  for (const spec of modelTensorSpecs(config)) {
    const name = spec.name;
    if (name.endsWith('.weight_scale')) {
      const base = name.slice(0, -'.weight_scale'.length);
      let scaleRef: Ref | undefined;
      if (packed) {
        scaleRef = find(name);
        if (!FLOAT_DTYPES.includes(scaleRef.entry.dtype) || scaleRef.entry.shape.reduce((a, b) => a * b, 1) !== 1) {
          throw new ModelFormatError(scaleRef.reader.file, `${scaleRef.entry.dtype} ${JSON.stringify(scaleRef.entry.shape)}, expected one float`, name);
        }
      }
      plan.set(name, async function* () {
        const alpha = scaleRef ? (await readFloats(scaleRef))[0] : alphas.get(base)!;
        yield alphaBytes(alpha, scaleRef?.reader.file ?? readers[0].file, name);
      });
      continue;
    }
    const proj = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj\.weight$/.exec(name);
    if (proj) {
      const p = proj[2] as Projection;
      const [rows, cols] = projectionShape(config, p);
      const r = find(name);
      if (packed) {
        if (r.entry.dtype !== 'U8') throw new ModelFormatError(r.reader.file, `dtype ${r.entry.dtype}; other projections are packed U8`, name);
        if (rows % 4 !== 0) throw new ModelFormatError(r.reader.file, `${rows} output rows cannot be packed 4 per byte`, name);
        checkShape(r.reader.file, name, r.entry.shape, [rows / 4, cols]);
      } else {
        if (!FLOAT_DTYPES.includes(r.entry.dtype)) throw new ModelFormatError(r.reader.file, `dtype ${r.entry.dtype}, expected ${FLOAT_DTYPES.join(', ')} (latent weights)`, name);
        checkShape(r.reader.file, name, r.entry.shape, [rows, cols]);
      }
      const base = name.slice(0, -'.weight'.length);
      plan.set(name, async function* () {
        let values: Int8Array;
        if (packed) {
          try {
            values = decodeHfPacked(await r.reader.read(r.entry.offset, r.entry.byteLength, name), rows, cols);
          } catch (e) {
            if (e instanceof TernaryCodeError) throw new ModelFormatError(r.reader.file, e.message, name);
            throw e;
          }
        } else {
          const w = await readFloats(r);
          const bad = w.findIndex((x) => !Number.isFinite(x));
          if (bad >= 0) throw new ModelFormatError(r.reader.file, `contains ${w[bad]} at element ${bad}`, name);
          const t = ternarize(w);
          values = t.values;
          alphas.set(base, t.alpha);
        }
        yield packTernary(values, rows, cols);
      });
      continue;
    }
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') {
      const r = floatRef(name, [config.vocabSize, d]);
      plan.set(name, () => embedChunks(r, d));
      continue;
    }
    const r = floatRef(name, spec.shape);
    plan.set(name, async function* () {
      yield finiteF32Bytes(await readFloats(r), r.reader.file, r.entry.name);
    });
  }
  for (const [name, r] of refs) {
    if (used.has(name) || name.endsWith('.weight_scale') || name.endsWith('rotary_emb.inv_freq')) continue;
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue; // some checkpoints store the tied copy
    throw new ModelFormatError(r.reader.file, 'unknown tensor; not part of a BitNet model with this config.json', name);
  }
  const llamaNames = [...used].some((n) => n.includes('.inner_attn_ln.') || n.includes('.ffn_layernorm.'));
  const variant = packed ? 'packed ternary weights' : llamaNames ? 'latent weights, 1bitLLM LLaMA layout, quantized on import' : 'latent (master) weights, quantized on import';
  return {
    kind: `Hugging Face BitNet checkpoint (${variant})`,
    config,
    tokenizerJson,
    tokenizerConfig,
    tensor: (spec: TensorSpec) => plan.get(spec.name)!(),
    close: async () => {
      await Promise.all(readers.map((r) => r.close()));
    },
  };
}

async function* embedChunks(r: Ref, hidden: number): AsyncIterable<Uint8Array> {
  const elem = r.entry.byteLength / (r.entry.shape[0] * hidden);
  const rowBytes = hidden * elem;
  const rowsPerChunk = Math.max(1, Math.floor(EMBED_CHUNK_BYTES / rowBytes));
  for (let row = 0; row < r.entry.shape[0]; row += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, r.entry.shape[0] - row);
    const x = await readFloats(r, row * rowBytes, n * rowBytes);
    yield finiteF16Bytes(x, r.reader.file, `${r.entry.name} (rows ${row}..${row + n - 1})`);
  }
}
