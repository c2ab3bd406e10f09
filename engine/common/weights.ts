// The tensors of model.safetensors (docs/model-format.md) as typed arrays, validated against
// config.json, and back. Packed ternary weights stay packed (views into the file bytes).
import type { ModelConfig } from './config.js';
import { ModelFormatError } from './errors.js';
import { f16BytesToF32, f32BytesToF32, f32ToBytes, f32ToF16Bytes } from './f16.js';
import { writeSafetensors, type Dtype, type TensorSpec, type TensorView } from './safetensors.js';
import { findInvalidTernaryByte } from './ternary.js';

export interface BitLinearWeights {
  /** [rows, cols / 4] bytes, docs/model-format.md layout. */
  packed: Uint8Array;
  /** Output features. */
  rows: number;
  /** Input features. */
  cols: number;
  alpha: number;
}

export interface LayerWeights {
  inputNorm: Float32Array;
  attnSubNorm: Float32Array;
  postAttnNorm: Float32Array;
  ffnSubNorm: Float32Array;
  q: BitLinearWeights;
  k: BitLinearWeights;
  v: BitLinearWeights;
  o: BitLinearWeights;
  gate: BitLinearWeights;
  up: BitLinearWeights;
  down: BitLinearWeights;
}

export interface ModelWeights {
  config: ModelConfig;
  /** [vocab * hidden], row-major. Converted from F16 on first access when read from a file. */
  embed: Float32Array;
  /** [vocab * hidden]; absent when tied. */
  lmHead?: Float32Array;
  /** The stored F16 bits of embed / lmHead when the file has F16 (upload without converting). */
  embedF16?: Uint16Array;
  lmHeadF16?: Uint16Array;
  norm: Float32Array;
  layers: LayerWeights[];
}

export const PROJECTIONS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** Tensor name of projection `p` of layer `i`, without the `.weight` / `.weight_scale` suffix. */
export function projectionName(i: number, p: Projection): string {
  return p === 'gate' || p === 'up' || p === 'down' ? `model.layers.${i}.mlp.${p}_proj` : `model.layers.${i}.self_attn.${p}_proj`;
}

/** [out, in] of each projection. */
export function projectionShape(c: ModelConfig, p: Projection): [number, number] {
  const d = c.hiddenSize;
  const attn = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (p) {
    case 'q': return [attn, d];
    case 'k':
    case 'v': return [kv, d];
    case 'o': return [d, attn];
    case 'gate':
    case 'up': return [c.intermediateSize, d];
    case 'down': return [d, c.intermediateSize];
  }
}

const NORMS = [
  ['inputNorm', 'input_layernorm'],
  ['attnSubNorm', 'self_attn.attn_sub_norm'],
  ['postAttnNorm', 'post_attention_layernorm'],
  ['ffnSubNorm', 'mlp.ffn_sub_norm'],
] as const;

/** Every tensor of a model with this config, in the canonical file order. */
export function modelTensorSpecs(c: ModelConfig, embedDtype: 'F16' | 'F32' = 'F16'): TensorSpec[] {
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', dtype: embedDtype, shape: [c.vocabSize, c.hiddenSize] }];
  for (let i = 0; i < c.numLayers; i++) {
    for (const [key, name] of NORMS) {
      specs.push({ name: `model.layers.${i}.${name}.weight`, dtype: 'F32', shape: [key === 'ffnSubNorm' ? c.intermediateSize : c.hiddenSize] });
    }
    for (const p of PROJECTIONS) {
      const [rows, cols] = projectionShape(c, p);
      specs.push({ name: `${projectionName(i, p)}.weight`, dtype: 'U8', shape: [rows, cols / 4] });
      specs.push({ name: `${projectionName(i, p)}.weight_scale`, dtype: 'F32', shape: [1] });
    }
  }
  specs.push({ name: 'model.norm.weight', dtype: 'F32', shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', dtype: embedDtype, shape: [c.vocabSize, c.hiddenSize] });
  return specs;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function f16View(data: Uint8Array): Uint16Array {
  // Typed views need aligned offsets; an odd data offset is legal in safetensors, so copy then.
  if (data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  return new Uint16Array(new Uint8Array(data).buffer);
}

/** Validates every tensor against the config and builds ModelWeights (packed weights are views). */
export function weightsFromSafetensors(config: ModelConfig, tensors: Map<string, TensorView>, file: string): ModelWeights {
  const specs = modelTensorSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const unknown = [...tensors.keys()].filter((n) => !expected.has(n));
  if (unknown.length) {
    const tied = unknown.includes('lm_head.weight') && config.tieWordEmbeddings ? ' (config.json says tie_word_embeddings: true)' : '';
    throw new ModelFormatError(file, `unknown tensor${tied}; not part of a model with this config.json`, unknown[0]);
  }
  const get = (s: TensorSpec): TensorView => {
    const t = tensors.get(s.name);
    if (!t) throw new ModelFormatError(file, `missing (expected ${s.dtype} ${JSON.stringify(s.shape)})`, s.name);
    const dtypes: Dtype[] = s.dtype === 'F16' ? ['F16', 'F32'] : [s.dtype];
    if (!dtypes.includes(t.dtype)) throw new ModelFormatError(file, `dtype ${t.dtype}, expected ${dtypes.join(' or ')}`, s.name);
    if (!sameShape(t.shape, s.shape)) {
      throw new ModelFormatError(file, `shape ${JSON.stringify(t.shape)} does not match config.json, expected ${JSON.stringify(s.shape)}`, s.name);
    }
    return t;
  };
  const floats = (s: TensorSpec): Float32Array => {
    const x = f32BytesToF32(get(s).data);
    if (!x.every(Number.isFinite)) throw new ModelFormatError(file, 'contains NaN or infinity', s.name);
    return x;
  };
  const specOf = new Map(specs.map((s) => [s.name, s]));
  const spec = (name: string): TensorSpec => specOf.get(name)!;

  const bitLinear = (i: number, p: Projection): BitLinearWeights => {
    const base = projectionName(i, p);
    const packed = get(spec(`${base}.weight`)).data;
    const bad = findInvalidTernaryByte(packed);
    if (bad >= 0) throw new ModelFormatError(file, `invalid ternary code 3 in packed byte ${bad}`, `${base}.weight`);
    const alpha = floats(spec(`${base}.weight_scale`))[0];
    if (!(alpha >= 0)) throw new ModelFormatError(file, `weight_scale ${alpha} must be >= 0`, `${base}.weight_scale`);
    const [rows, cols] = projectionShape(config, p);
    return { packed, rows, cols, alpha };
  };

  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const norm = (name: string) => floats(spec(`model.layers.${i}.${name}.weight`));
    const layer = {} as LayerWeights;
    for (const [key, name] of NORMS) layer[key] = norm(name);
    for (const p of PROJECTIONS) layer[p] = bitLinear(i, p);
    layers.push(layer);
  }
  const w = { config, norm: floats(spec('model.norm.weight')), layers } as ModelWeights;
  defineMatrix(w, 'embed', 'embedF16', get(spec('model.embed_tokens.weight')), file);
  if (!config.tieWordEmbeddings) defineMatrix(w, 'lmHead', 'lmHeadF16', get(spec('lm_head.weight')), file);
  return w;
}

// Embeddings are the largest tensors (2B-4T: 328M values, 1.3 GB as float32). A GPU engine uploads
// the F16 bits as they are, so the float32 copy is only made when something reads it.
function defineMatrix(w: ModelWeights, key: 'embed' | 'lmHead', f16Key: 'embedF16' | 'lmHeadF16', t: TensorView, file: string): void {
  if (t.dtype === 'F32') {
    const x = f32BytesToF32(t.data);
    if (!x.every(Number.isFinite)) throw new ModelFormatError(file, 'contains NaN or infinity', t.name);
    w[key] = x;
    return;
  }
  const bits = f16View(t.data);
  // Exponent all ones = infinity or NaN.
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7c00) === 0x7c00) throw new ModelFormatError(file, `contains NaN or infinity at element ${i}`, t.name);
  }
  w[f16Key] = bits;
  let cache: Float32Array | undefined;
  Object.defineProperty(w, key, {
    enumerable: true,
    configurable: true,
    get: () => (cache ??= f16BytesToF32(t.data)),
    set: (v: Float32Array) => {
      cache = v;
      delete w[f16Key]; // no longer describes the values
    },
  });
}

/** model.safetensors bytes for these weights (embeddings and LM head as F16). */
export function weightsToSafetensors(w: ModelWeights): Uint8Array {
  const c = w.config;
  if (c.tieWordEmbeddings === (w.lmHead !== undefined)) {
    throw new Error(`lmHead must be ${c.tieWordEmbeddings ? 'absent when tie_word_embeddings is true' : 'present when tie_word_embeddings is false'}`);
  }
  if (w.layers.length !== c.numLayers) throw new Error(`${w.layers.length} layers given, config says ${c.numLayers}`);
  const data = new Map<string, Uint8Array>();
  data.set('model.embed_tokens.weight', f32ToF16Bytes(w.embed));
  if (w.lmHead) data.set('lm_head.weight', f32ToF16Bytes(w.lmHead));
  data.set('model.norm.weight', f32ToBytes(w.norm));
  w.layers.forEach((layer, i) => {
    for (const [key, name] of NORMS) data.set(`model.layers.${i}.${name}.weight`, f32ToBytes(layer[key]));
    for (const p of PROJECTIONS) {
      data.set(`${projectionName(i, p)}.weight`, layer[p].packed);
      data.set(`${projectionName(i, p)}.weight_scale`, f32ToBytes(Float32Array.of(layer[p].alpha)));
    }
  });
  return writeSafetensors(modelTensorSpecs(c).map((s) => ({ ...s, data: data.get(s.name)! })));
}
