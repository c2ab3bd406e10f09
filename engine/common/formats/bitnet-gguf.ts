// BitNet in GGUF: llama.cpp's names for the architecture, its hyperparameters and its tensors, and
// their mapping to the BitLens model (docs/import.md).
//   arch "bitnet" (llama.cpp), "bitnet-b1.58" / "bitnet-25" (bitnet.cpp, microsoft/BitNet)
//   token_embd, output_norm, output (untied only), blk.N.{attn_norm, attn_q, attn_k, attn_v,
//   attn_sub_norm, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_sub_norm, ffn_down}.weight and an
//   optional blk.N.<proj>.scale (f32 [1]) that multiplies the projection's output.
// Rows keep Hugging Face's order (llama.cpp's BitNet converter does not permute Q/K for RoPE).
import type { Activation, ModelConfig } from '../config.js';
import { ModelFormatError } from '../errors.js';
import type { Projection } from '../weights.js';
import { gguf, ggufMeta, type GgufHeader, type GgufMetaValue } from './gguf.js';

export const BITNET_ARCHS = ['bitnet', 'bitnet-b1.58', 'bitnet-25'] as const;

export const GGUF_PROJECTION_NAMES: Record<Projection, string> = {
  q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
};

/** BitLens LayerWeights norm key -> GGUF tensor stem. */
export const GGUF_NORM_NAMES = {
  inputNorm: 'attn_norm', attnSubNorm: 'attn_sub_norm', postAttnNorm: 'ffn_norm', ffnSubNorm: 'ffn_sub_norm',
} as const;

const ACTIVATION_NAMES: Record<string, Activation> = { relu2: 'relu2glu', relu_sqr: 'relu2glu', relu2glu: 'relu2glu', silu: 'swiglu', swiglu: 'swiglu', swish: 'swiglu' };

/** llama.cpp file types (llama.h LLAMA_FTYPE_*; 40 is bitnet.cpp's I2_S). */
export const GGUF_FILE_TYPES = { F32: 0, F16: 1, TQ1_0: 36, TQ2_0: 37, I2_S: 40 } as const;

/** The shortest decimal that is the same f32 (GGUF stores eps and theta as f32: 1e-5, not 9.99999975e-6). */
function decimalOfF32(x: number): number {
  for (let p = 1; p < 17; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === Math.fround(x)) return d;
  }
  return x;
}

/**
 * The BitLens config from a BitNet GGUF's metadata. `activation` overrides what the file says;
 * without either, arch "bitnet" means SwiGLU (llama.cpp's default) and bitnet.cpp's archs ReLU².
 */
export function configFromGguf(
  h: GgufHeader,
  file: string,
  tok: { vocabSize: number; bosTokenId: number; eosTokenIds: number[] },
  opts: { activation?: Activation; name?: string } = {},
): ModelConfig {
  const m = ggufMeta(h, file);
  const arch = m.str('general.architecture');
  if (!(BITNET_ARCHS as readonly string[]).includes(arch)) {
    throw new ModelFormatError(file, `metadata 'general.architecture' is ${JSON.stringify(arch)}; BitLens imports BitNet models (${BITNET_ARCHS.join(', ')})`);
  }
  const k = (s: string) => `${arch}.${s}`;
  const hidden = m.int(k('embedding_length'));
  const heads = m.int(k('attention.head_count'));
  let activation = opts.activation;
  if (!activation) {
    const act = m.has(k('hidden_activation')) ? m.str(k('hidden_activation')) : undefined;
    if (act !== undefined && !ACTIVATION_NAMES[act]) throw new ModelFormatError(file, `metadata '${k('hidden_activation')}': unknown activation ${JSON.stringify(act)} (known: ${Object.keys(ACTIVATION_NAMES).join(', ')})`);
    activation = act !== undefined ? ACTIVATION_NAMES[act] : arch === 'bitnet' ? 'swiglu' : 'relu2glu';
  }
  const vocab = m.has(k('vocab_size')) ? m.int(k('vocab_size')) : tok.vocabSize;
  if (vocab !== tok.vocabSize) throw new ModelFormatError(file, `metadata '${k('vocab_size')}' is ${vocab} but the tokenizer has ${tok.vocabSize} tokens`);
  const dimCount = m.has(k('rope.dimension_count')) ? m.int(k('rope.dimension_count')) : hidden / heads;
  if (dimCount !== hidden / heads) throw new ModelFormatError(file, `metadata '${k('rope.dimension_count')}' is ${dimCount}; BitLens rotates the whole head (head_dim ${hidden / heads})`);
  const config: ModelConfig = {
    vocabSize: vocab,
    hiddenSize: hidden,
    numLayers: m.int(k('block_count')),
    numHeads: heads,
    numKvHeads: m.int(k('attention.head_count_kv'), heads),
    headDim: hidden / heads,
    intermediateSize: m.int(k('feed_forward_length')),
    activation,
    rmsNormEps: decimalOfF32(m.float(k('attention.layer_norm_rms_epsilon'), 1e-5)),
    ropeTheta: decimalOfF32(m.float(k('rope.freq_base'), 10000)),
    maxPositionEmbeddings: m.int(k('context_length')),
    tieWordEmbeddings: !h.tensors.some((t) => t.name === 'output.weight'),
    subln: true,
    scheme: 'b1.58',
    bosTokenId: tok.bosTokenId,
    eosTokenIds: tok.eosTokenIds,
  };
  const name = opts.name ?? (m.has('general.name') ? m.str('general.name') : undefined);
  if (name !== undefined) config.name = name;
  return config;
}

/** The architecture metadata llama.cpp reads for a BitNet model with this config. */
export function bitnetGgufMetadata(c: ModelConfig, opts: { arch?: (typeof BITNET_ARCHS)[number]; fileType: number; name?: string }): [string, GgufMetaValue][] {
  const arch = opts.arch ?? 'bitnet';
  const k = (s: string) => `${arch}.${s}`;
  return [
    ['general.architecture', gguf.str(arch)],
    ['general.name', gguf.str(opts.name ?? c.name ?? 'bitnet')],
    ['general.file_type', gguf.u32(opts.fileType)],
    ['general.quantization_version', gguf.u32(2)],
    [k('vocab_size'), gguf.u32(c.vocabSize)],
    [k('context_length'), gguf.u32(c.maxPositionEmbeddings)],
    [k('embedding_length'), gguf.u32(c.hiddenSize)],
    [k('block_count'), gguf.u32(c.numLayers)],
    [k('feed_forward_length'), gguf.u32(c.intermediateSize)],
    [k('rope.dimension_count'), gguf.u32(c.headDim)],
    [k('attention.head_count'), gguf.u32(c.numHeads)],
    [k('attention.head_count_kv'), gguf.u32(c.numKvHeads)],
    [k('rope.freq_base'), gguf.f32(c.ropeTheta)],
    [k('attention.layer_norm_rms_epsilon'), gguf.f32(c.rmsNormEps)],
    [k('hidden_activation'), gguf.str(c.activation === 'relu2glu' ? 'relu2' : 'silu')],
  ];
}
