// config.json of a BitLens model folder (docs/model-format.md): validation with zod, and the
// camelCase form the engine works with.
import { z } from 'zod';
import { ModelFormatError } from './errors.js';
import { SCHEMES, type Scheme } from './scheme.js';

export const ACTIVATIONS = ['swiglu', 'relu2glu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface ModelConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** hidden_size / num_heads (not stored in config.json). */
  headDim: number;
  intermediateSize: number;
  activation: Activation;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  subln: boolean;
  scheme: Scheme;
  bosTokenId: number;
  /** config.json's eos_token_id, always as a list. */
  eosTokenIds: number[];
  name?: string;
  description?: string;
}

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

// Strict: a misspelt key is refused rather than silently ignored (docs/model-format.md, Validation).
const configSchema = z
  .strictObject({
    format: z.literal('bitlens'),
    format_version: z.literal(1),
    vocab_size: posInt,
    hidden_size: posInt,
    num_layers: posInt,
    num_heads: posInt,
    num_kv_heads: posInt,
    intermediate_size: posInt,
    activation: z.enum(ACTIVATIONS),
    rms_norm_eps: z.number().positive(),
    rope_theta: z.number().positive(),
    max_position_embeddings: posInt,
    tie_word_embeddings: z.boolean(),
    subln: z.literal(true),
    scheme: z.enum(SCHEMES),
    bos_token_id: tokenId,
    eos_token_id: z.union([tokenId, z.array(tokenId).min(1)]),
    name: z.string().optional(),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.hidden_size % c.num_heads !== 0) fail('num_heads', `must divide hidden_size (${c.hidden_size})`);
    else if ((c.hidden_size / c.num_heads) % 2 !== 0) fail('num_heads', 'head_dim = hidden_size / num_heads must be even (RoPE pairs)');
    if (c.num_heads % c.num_kv_heads !== 0) fail('num_kv_heads', `must divide num_heads (${c.num_heads})`);
    // Packed ternary weights hold 4 input channels per byte.
    if (c.hidden_size % 4 !== 0) fail('hidden_size', 'must be a multiple of 4 (packed ternary input dimension)');
    if (c.intermediate_size % 4 !== 0) fail('intermediate_size', 'must be a multiple of 4 (packed ternary input dimension)');
    if (c.bos_token_id >= c.vocab_size) fail('bos_token_id', `must be < vocab_size (${c.vocab_size})`);
    const eos = Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id];
    if (eos.some((e) => e >= c.vocab_size)) fail('eos_token_id', `must be < vocab_size (${c.vocab_size})`);
  });

/** Validates parsed config.json; throws ModelFormatError naming every bad key. */
export function parseModelConfig(json: unknown, file: string): ModelConfig {
  const r = configSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ModelFormatError(file, `invalid config: ${problems.join('; ')}`);
  }
  const c = r.data;
  const config: ModelConfig = {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_layers,
    numHeads: c.num_heads,
    numKvHeads: c.num_kv_heads,
    headDim: c.hidden_size / c.num_heads,
    intermediateSize: c.intermediate_size,
    activation: c.activation,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    maxPositionEmbeddings: c.max_position_embeddings,
    tieWordEmbeddings: c.tie_word_embeddings,
    subln: c.subln,
    scheme: c.scheme,
    bosTokenId: c.bos_token_id,
    eosTokenIds: Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id],
  };
  if (c.name !== undefined) config.name = c.name;
  if (c.description !== undefined) config.description = c.description;
  return config;
}

/** The config.json object for `c` (snake_case, with format and version). */
export function configToJson(c: ModelConfig): Record<string, unknown> {
  if (c.headDim * c.numHeads !== c.hiddenSize) {
    throw new Error(`headDim ${c.headDim} * numHeads ${c.numHeads} must equal hiddenSize ${c.hiddenSize}`);
  }
  const json: Record<string, unknown> = {
    format: 'bitlens',
    format_version: 1,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_layers: c.numLayers,
    num_heads: c.numHeads,
    num_kv_heads: c.numKvHeads,
    intermediate_size: c.intermediateSize,
    activation: c.activation,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    subln: c.subln,
    scheme: c.scheme,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : [...c.eosTokenIds],
  };
  if (c.name !== undefined) json.name = c.name;
  if (c.description !== undefined) json.description = c.description;
  return json;
}
