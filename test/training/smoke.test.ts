// CPU smoke test of the trainer, end to end: train a tokenizer on a slice of the corpus, tokenize,
// train a tiny model of every scheme for a few steps (A8 then the final quantizers), export, then
// load each folder with the engine and check its float64 reference against the trainer's golden.json.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGolden } from './golden-check.js';
import { findPython, REPO, runTraining } from './python.js';

const CORPUS = path.join(REPO, 'test/training/fixtures/corpus');
const TINY = ['--hidden', '64', '--layers', '2', '--heads', '4', '--kv-heads', '2', '--ffn', '128', '--seq', '64',
  '--batch', '8', '--steps', '12', '--log-every', '4', '--device', 'cpu'];

describe('trainer smoke test (CPU)', () => {
  let root = '';
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('tokenizer -> data -> train every scheme -> export -> engine reference matches golden.json', async () => {
    const python = findPython('torch, numpy');
    root = await mkdtemp(path.join(tmpdir(), 'bitlens-train-smoke-'));
    const tok = path.join(root, 'tok');
    runTraining(python, 'tokenizer', ['--corpus', CORPUS, '--out', tok, '--vocab-size', '384', '--max-length', '64']);
    const tj = JSON.parse(readFileSync(path.join(tok, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    expect(Object.keys(tj.model.vocab).length).toBe(384);

    const out = path.join(root, 'out');
    runTraining(python, 'ablation', ['--tokenizer', tok, '--corpus', CORPUS, '--out', out, '--work', path.join(root, 'work'), ...TINY]);
    const summary = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      results: Record<string, { val_ppl: number; val_bpb: number; steps: number; switch_step: number; scheme: string }>;
      failed: string[];
    };
    expect(summary.failed).toEqual([]);
    expect(Object.keys(summary.results).sort()).toEqual(['a4-noh', 'a4.8', 'b1.58', 'v2-a4', 'v2-a8']);
    for (const [run, r] of Object.entries(summary.results)) {
      expect(r.scheme).toBe(run);
      expect(r.steps).toBe(12);
      expect(r.switch_step).toBe(11); // the last 7% of 12 steps (rounded) use the final quantizers
      // 384 tokens: a few steps must beat the uniform distribution, without being implausibly good.
      expect(r.val_ppl).toBeLessThan(384);
      expect(r.val_ppl).toBeGreaterThan(5);
      expect(r.val_bpb).toBeGreaterThan(0);
    }
    for (const [group, run] of [['group0', 'b1.58'], ['group1', 'a4.8'], ['group2', 'v2-a8'], ['group2', 'v2-a4']]) {
      const dir = path.join(root, 'work', group, run);
      expect(existsSync(path.join(dir, 'model.safetensors')), dir).toBe(true);
      await checkGolden(dir, 1e-3);
    }
    // The ablation-only scheme has no engine counterpart, so it is not exported.
    expect(existsSync(path.join(root, 'work', 'group0', 'a4-noh'))).toBe(false);
  }, 120_000);
});
