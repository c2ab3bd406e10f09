// Compares a model folder's golden.json (written by training/export.py in PyTorch fp32) with the
// engine's float64 ReferenceModel run on the same exported files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { KvBits } from '../../engine/common/api.js';
import { argmax, ReferenceModel } from '../../engine/common/reference.js';
import type { Scheme } from '../../engine/common/scheme.js';
import { loadModelDir } from '../../engine/node/model-dir.js';

export interface Golden {
  scheme: Scheme;
  kv_bits: KvBits;
  cases: { prompt: string; input_ids: number[]; last_logits: number[]; greedy_ids: number[] }[];
}

/** Largest |logit difference| over the cases; asserts greedy ids agree (up to a genuine near-tie). */
export async function checkGolden(dir: string, tol: number): Promise<number> {
  const golden = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as Golden;
  const model = await loadModelDir(dir);
  expect(golden.scheme).toBe(model.config.scheme);
  expect(golden.cases.length).toBe(3);
  const ref = new ReferenceModel(model.weights, { scheme: golden.scheme, kvBits: golden.kv_bits });
  let worst = 0;
  for (const c of golden.cases) {
    expect(c.input_ids[0]).toBe(model.config.bosTokenId);
    ref.reset();
    let logits = ref.forward(c.input_ids);
    expect(logits.length).toBe(c.last_logits.length);
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - c.last_logits[i]));
    for (let s = 0; s < c.greedy_ids.length; s++) {
      const mine = argmax(logits);
      if (mine !== c.greedy_ids[s]) {
        // Only a tie within float32 noise may go the other way; after it the sequences diverge.
        expect(Math.abs(logits[mine] - logits[c.greedy_ids[s]]), `${dir} ${c.prompt} step ${s}`).toBeLessThan(1e-4);
        break;
      }
      logits = ref.forward([mine]);
    }
  }
  expect(worst, dir).toBeLessThan(tol);
  return worst;
}
