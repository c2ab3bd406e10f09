import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import { parseSafetensors, writeSafetensors, type TensorView } from '../../../engine/common/safetensors.js';
import { modelTensorSpecs, weightsFromSafetensors, weightsToSafetensors } from '../../../engine/common/weights.js';
import { unpackTernary } from '../../../engine/common/ternary.js';

const config = tinyConfig();

function tensorsOf(bytes: Uint8Array): Map<string, TensorView> {
  return parseSafetensors(bytes, 'model.safetensors');
}

/** Re-serialise the tensors of a file with one of them replaced or removed. */
function edited(edit: (t: Map<string, TensorView>) => void): Map<string, TensorView> {
  const t = tensorsOf(weightsToSafetensors(randomModelWeights(config, 1)));
  edit(t);
  return tensorsOf(writeSafetensors([...t.values()]));
}

describe('model weights', () => {
  it('round trip through safetensors bit-exactly', () => {
    const w = randomModelWeights(config, 7);
    const bytes = weightsToSafetensors(w);
    const back = weightsFromSafetensors(config, tensorsOf(bytes), 'model.safetensors');
    expect(back.embed).toEqual(w.embed);
    expect(back.norm).toEqual(w.norm);
    expect(back.layers[1].down.alpha).toBe(w.layers[1].down.alpha);
    expect(back.layers[1].ffnSubNorm).toEqual(w.layers[1].ffnSubNorm);
    expect(back.layers[0].q.packed).toEqual(w.layers[0].q.packed);
    expect(weightsToSafetensors(back)).toEqual(bytes);
  });

  it('random models are seeded, ~1/3 zeros, and untied models get an LM head', () => {
    expect(weightsToSafetensors(randomModelWeights(config, 3))).toEqual(weightsToSafetensors(randomModelWeights(config, 3)));
    expect(randomModelWeights(config, 3).embed).not.toEqual(randomModelWeights(config, 4).embed);
    const big = tinyConfig({ hiddenSize: 64, intermediateSize: 128, tieWordEmbeddings: false });
    const w = randomModelWeights(big, 1);
    const v = unpackTernary(w.layers[0].gate.packed, 128, 64);
    const zeros = v.filter((x) => x === 0).length / v.length;
    expect(zeros).toBeGreaterThan(0.28);
    expect(zeros).toBeLessThan(0.39);
    expect(w.lmHead).toHaveLength(big.vocabSize * 64);
    expect(w.embedF16).toHaveLength(big.vocabSize * 64);
    expect(modelTensorSpecs(big).at(-1)!.name).toBe('lm_head.weight');
  });

  const q0 = 'model.layers.0.self_attn.q_proj.weight';
  const cases: [string, (t: Map<string, TensorView>) => void, RegExp][] = [
    ['a missing tensor', (t) => t.delete('model.layers.1.mlp.down_proj.weight_scale'), /tensor 'model\.layers\.1\.mlp\.down_proj\.weight_scale': missing/],
    ['an unknown tensor', (t) => t.set('model.layers.2.input_layernorm.weight', { ...t.get('model.norm.weight')!, name: 'model.layers.2.input_layernorm.weight' }), /tensor 'model\.layers\.2\.input_layernorm\.weight': unknown tensor/],
    ['an LM head in a tied model', (t) => t.set('lm_head.weight', { ...t.get('model.embed_tokens.weight')!, name: 'lm_head.weight' }), /'lm_head\.weight': unknown tensor \(config\.json says tie_word_embeddings: true\)/],
    ['a wrong dtype', (t) => t.set(q0, { ...t.get(q0)!, dtype: 'I8' }), /tensor 'model\.layers\.0\.self_attn\.q_proj\.weight': dtype I8, expected U8/],
    ['a shape that disagrees with config.json', (t) => t.set(q0, { ...t.get(q0)!, shape: [8, 32] }), /q_proj\.weight': shape \[8,32\] does not match config\.json, expected \[32,8\]/],
    ['code 3 in packed weights', (t) => { const d = new Uint8Array(t.get(q0)!.data); d[5] = 0xff; t.set(q0, { ...t.get(q0)!, data: d }); }, /q_proj\.weight': invalid ternary code 3 in packed byte 5/],
    ['a NaN norm', (t) => { const n = 'model.norm.weight'; t.set(n, { ...t.get(n)!, data: new Uint8Array(Float32Array.of(...new Array(32).fill(NaN)).buffer) }); }, /model\.norm\.weight': contains NaN/],
    ['a negative scale', (t) => { const n = 'model.layers.0.mlp.up_proj.weight_scale'; t.set(n, { ...t.get(n)!, data: new Uint8Array(Float32Array.of(-1).buffer) }); }, /up_proj\.weight_scale': weight_scale -1 must be >= 0/],
  ];
  for (const [what, edit, re] of cases) {
    it(`refuses ${what}, naming the tensor`, () => {
      const t = edited(edit);
      const f = () => weightsFromSafetensors(config, t, '/m/model.safetensors');
      expect(f).toThrow(ModelFormatError);
      expect(f).toThrow(re);
    });
  }

  it('accepts F32 embeddings', () => {
    const w = randomModelWeights(config, 2);
    const t = edited((t) => t.set('model.embed_tokens.weight', { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [64, 32], data: new Uint8Array(Float32Array.from(w.embed).buffer) }));
    const back = weightsFromSafetensors(config, t, 'm');
    expect(back.embed).toEqual(w.embed);
    expect(back.embedF16).toBeUndefined();
  });
});
