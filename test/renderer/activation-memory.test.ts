import { describe, expect, it } from 'vitest';
import { activationBytes, modelShape } from '../../renderer/src/data/activationMemory.js';

const CONFIG = { hidden_size: 8, intermediate_size: 16, num_heads: 2, num_kv_heads: 1, num_layers: 3, vocab_size: 260, rope_theta: 10000 };

describe('activation memory from the model shapes', () => {
  it('reads the shapes from config.json and names a bad key', () => {
    expect(modelShape(CONFIG)).toEqual({ hidden: 8, intermediate: 16, heads: 2, kvHeads: 1, layers: 3, vocab: 260 });
    expect(() => modelShape({ ...CONFIG, num_kv_heads: undefined })).toThrow('config.json: num_kv_heads must be a positive integer, not undefined');
    expect(() => modelShape({ ...CONFIG, hidden_size: 8.5 })).toThrow(/hidden_size must be a positive integer, not 8\.5/);
    expect(() => modelShape({ ...CONFIG, num_heads: 3 })).toThrow(/hidden_size 8 is not a multiple of num_heads 3/);
  });

  it('sizes a decode step: one token, scores over the whole context (float32)', () => {
    // head_dim 4: residual 8, QKV (2 + 2 x 1) x 4, scores 2 heads x 1 x 10, FFN 3 x 16, logits 260.
    const a = activationBytes(modelShape(CONFIG), 1, 10);
    expect(a).toEqual({ residual: 32, qkv: 64, scores: 80, ffn: 192, logits: 1040, peak: 32 + 1040 });
    // The scores grow with the context until attention is the largest buffer.
    expect(activationBytes(modelShape(CONFIG), 1, 1000).peak).toBe(32 + 64 + 2 * 1000 * 4);
  });

  it('sizes a prefill: T x T scores per head, logits of the last token only', () => {
    const a = activationBytes(modelShape(CONFIG), 6, 6);
    expect(a).toEqual({ residual: 192, qkv: 384, scores: 288, ffn: 1152, logits: 1040, peak: 192 + 1152 });
    // More layers do not add: layers run one after another.
    expect(activationBytes(modelShape({ ...CONFIG, num_layers: 30 }), 6, 6)).toEqual(a);
  });

  it('refuses a step that attends to fewer tokens than it feeds', () => {
    expect(() => activationBytes(modelShape(CONFIG), 0, 4)).toThrow(/tokens must be a positive integer/);
    expect(() => activationBytes(modelShape(CONFIG), 6, 5)).toThrow(/context \(5\) must be an integer of at least tokens \(6\)/);
  });
});
