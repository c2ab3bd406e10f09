// The trainer's Python BPE encoder (training/bpe.py, used to tokenize the training data) and the
// engine's tokenizer library (@huggingface/tokenizers) must give identical ids for the default
// model's tokenizer.json, on held-out corpus text plus Unicode, whitespace and special-token cases.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { findPython, REPO } from './python.js';

const MODEL = path.join(REPO, 'assets/models/bitlens-v2');
const HELDOUT = path.join(REPO, 'test/training/fixtures/heldout.txt');
const PY = `
import json, sys
from training.bpe import Tokenizer
t = Tokenizer(sys.argv[1])
text = open(sys.argv[2], encoding='utf-8', newline='').read()
ids = t.encode(text, add_bos=True)
print(json.dumps({'ids': ids, 'decoded': t.decode(ids[1:])}))
`;

describe('BPE tokenizer: Python encoder == @huggingface/tokenizers', () => {
  it('gives identical ids on held-out text', () => {
    const python = findPython('json');
    const tok = new Tokenizer(
      JSON.parse(readFileSync(path.join(MODEL, 'tokenizer.json'), 'utf8')),
      JSON.parse(readFileSync(path.join(MODEL, 'tokenizer_config.json'), 'utf8')),
    );
    const text = readFileSync(HELDOUT, 'utf8');
    expect(text).toContain('\r\n');
    const py = JSON.parse(
      execFileSync(python, ['-c', PY, path.join(MODEL, 'tokenizer.json'), HELDOUT], { cwd: REPO, encoding: 'utf8' }),
    ) as { ids: number[]; decoded: string };
    const js = tok.encode(text).ids;
    expect(js.length).toBeGreaterThan(5000);
    expect(py.ids.length).toBe(js.length);
    const first = py.ids.findIndex((id, i) => id !== js[i]);
    expect(first, `first differing id at ${first}`).toBe(-1);
    expect(py.decoded).toBe(text);
    expect(tok.decode(js, { skip_special_tokens: false })).toBe(`<|begin_of_text|>${text}`);
  });
});
