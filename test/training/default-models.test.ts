// The committed default model (BitNet v2, A4) and its b1.58 twin: format, size budget, same
// architecture and tokenizer, and the engine's float64 reference against each golden.json.
// (test/engine/node/golden.test.ts checks the ONNX engine against the default model's golden.json.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGolden } from './golden-check.js';
import { REPO } from './python.js';

const V2 = path.join(REPO, 'assets/models/bitlens-v2');
const B158 = path.join(REPO, 'assets/models/bitlens-b158');
const config = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const folderBytes = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

describe('default models in assets/', () => {
  it('are v2-a4 and b1.58 of the same architecture, powers of two, at most 16 MB each', () => {
    const a = config(V2);
    const b = config(B158);
    expect(a.scheme).toBe('v2-a4');
    expect(b.scheme).toBe('b1.58');
    for (const k of ['vocab_size', 'hidden_size', 'num_layers', 'num_heads', 'num_kv_heads', 'intermediate_size', 'activation']) {
      expect(b[k], k).toEqual(a[k]);
    }
    for (const k of ['hidden_size', 'num_layers', 'intermediate_size']) {
      const v = a[k] as number;
      expect(v & (v - 1), `${k} = ${v}`).toBe(0);
    }
    expect(readFileSync(path.join(B158, 'tokenizer.json'), 'utf8')).toBe(readFileSync(path.join(V2, 'tokenizer.json'), 'utf8'));
    for (const dir of [V2, B158]) expect(folderBytes(dir), dir).toBeLessThan(16e6);
  });

  it('the engine reference reproduces the trainer golden.json of both', async () => {
    for (const dir of [V2, B158]) await checkGolden(dir, 0.05);
  }, 60_000);
});
