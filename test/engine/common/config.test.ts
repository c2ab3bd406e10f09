import { describe, expect, it } from 'vitest';
import { configToJson, parseModelConfig } from '../../../engine/common/config.js';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { tinyConfig } from '../../../engine/common/random-model.js';

const good = () => configToJson(tinyConfig({ name: 'tiny', description: 'test' }));

describe('config.json', () => {
  it('round trips and derives head_dim', () => {
    const c = parseModelConfig(good(), 'config.json');
    expect(c.headDim).toBe(8);
    expect(c.eosTokenIds).toEqual([2]);
    expect(c.name).toBe('tiny');
    expect(configToJson(c)).toEqual(good());
  });

  it('accepts eos_token_id as a list', () => {
    const c = parseModelConfig({ ...good(), eos_token_id: [2, 3] }, 'config.json');
    expect(c.eosTokenIds).toEqual([2, 3]);
    expect(configToJson(c).eos_token_id).toEqual([2, 3]);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['wrong format', { format: 'gguf' }, /format/],
    ['other version', { format_version: 2 }, /format_version/],
    ['unknown scheme', { scheme: 'int2' }, /scheme/],
    ['unknown activation', { activation: 'gelu' }, /activation/],
    ['string for a number', { hidden_size: '32' }, /hidden_size/],
    ['heads not dividing hidden', { num_heads: 5 }, /num_heads: must divide hidden_size/],
    ['kv heads not dividing heads', { num_kv_heads: 3 }, /num_kv_heads/],
    ['odd head dim', { hidden_size: 36, num_heads: 12 }, /even/],
    ['ffn not multiple of 4', { intermediate_size: 66 }, /intermediate_size: must be a multiple of 4/],
    ['bos outside vocab', { bos_token_id: 64 }, /bos_token_id/],
    ['misspelt key', { hiden_size: 32 }, /hiden_size/],
  ];
  for (const [what, patch, re] of bad) {
    it(`refuses ${what}`, () => {
      const f = () => parseModelConfig({ ...good(), ...patch }, '/m/config.json');
      expect(f).toThrow(ModelFormatError);
      expect(f).toThrow(re);
      expect(f).toThrow(/^\/m\/config\.json: /);
    });
  }

  it('refuses a missing key and a non-object', () => {
    const { rope_theta: _, ...rest } = good();
    expect(() => parseModelConfig(rest, 'c.json')).toThrow(/rope_theta/);
    expect(() => parseModelConfig([1], 'c.json')).toThrow(ModelFormatError);
  });
});
