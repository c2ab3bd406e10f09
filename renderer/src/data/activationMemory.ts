// Activation memory of one graph run, computed from the model's shapes (config.json) rather than
// measured: onnxruntime-node reports no per-tensor or arena figures. Float32 throughout, as the
// ORT graph computes; the graph returns the logits of the last token only (prefill included).

export interface ModelShape {
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  layers: number;
  vocab: number;
}

const KEYS: Record<keyof ModelShape, string> = {
  hidden: 'hidden_size',
  intermediate: 'intermediate_size',
  heads: 'num_heads',
  kvHeads: 'num_kv_heads',
  layers: 'num_layers',
  vocab: 'vocab_size',
};

/** The shapes that size the activations, from a parsed config.json; throws naming a bad key. */
export function modelShape(config: Record<string, unknown>): ModelShape {
  const out = {} as ModelShape;
  for (const [k, key] of Object.entries(KEYS) as [keyof ModelShape, string][]) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`config.json: ${key} must be a positive integer, not ${JSON.stringify(v)}`);
    out[k] = v;
  }
  if (out.hidden % out.heads) throw new Error(`config.json: hidden_size ${out.hidden} is not a multiple of num_heads ${out.heads}`);
  return out;
}

/** Bytes of the largest live float32 buffers of one layer (and the LM head) for one step. */
export interface ActivationBytes {
  /** The residual stream h, T x hidden (live through the whole layer). */
  residual: number;
  /** Q, K and V, T x (heads + 2 kv heads) x head_dim. */
  qkv: number;
  /** Attention scores, heads x T x context. */
  scores: number;
  /** Gate, up and the W_down input, 3 x T x intermediate. */
  ffn: number;
  /** The last token's logits, 1 x vocab. */
  logits: number;
  /** The peak: residual plus the largest of attention (QKV + scores), FFN and the logits. */
  peak: number;
}

const F32 = 4;

/**
 * `tokens` = tokens the step feeds (1 for a decode step, the prompt for the prefill); `context` =
 * tokens attended to after it (cached + fed). Buffers of different layers are never live together,
 * so one layer bounds the run.
 */
export function activationBytes(shape: ModelShape, tokens: number, context: number): ActivationBytes {
  if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`tokens must be a positive integer, not ${tokens}`);
  if (!Number.isInteger(context) || context < tokens) throw new Error(`context (${context}) must be an integer of at least tokens (${tokens})`);
  const headDim = shape.hidden / shape.heads;
  const residual = tokens * shape.hidden * F32;
  const qkv = tokens * (shape.heads + 2 * shape.kvHeads) * headDim * F32;
  const scores = shape.heads * tokens * context * F32;
  const ffn = 3 * tokens * shape.intermediate * F32;
  const logits = shape.vocab * F32;
  return { residual, qkv, scores, ffn, logits, peak: residual + Math.max(qkv + scores, ffn, logits) };
}
