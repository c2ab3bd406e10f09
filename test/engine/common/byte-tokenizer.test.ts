import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../../engine/common/byte-tokenizer.js';

describe('byte-level stand-in tokenizer', () => {
  const json = byteLevelTokenizerJson([{ id: 300, content: '<|begin_of_text|>' }, { id: 301, content: '<|eot_id|>' }]);

  it('loads in @huggingface/tokenizers and round trips any text byte by byte', () => {
    const tok = new Tokenizer(json as ConstructorParameters<typeof Tokenizer>[0], {});
    const text = 'Hi wörld 🙂\n\ttabs';
    const enc = tok.encode(`<|begin_of_text|>${text}<|eot_id|>`, { add_special_tokens: false });
    const bytes = new TextEncoder().encode(text);
    expect(enc.ids).toEqual([300, ...bytes, 301]);
    expect(tok.decode(enc.ids, { skip_special_tokens: true })).toBe(text);
  });

  it('refuses special ids that collide with byte tokens or each other', () => {
    expect(() => byteLevelTokenizerJson([{ id: 255, content: 'x' }])).toThrow(/>= 256/);
    expect(() => byteLevelTokenizerJson([{ id: 300, content: 'x' }, { id: 300, content: 'y' }])).toThrow(/unique/);
  });
});
