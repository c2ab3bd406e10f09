// `bitlens import` in-process: imports into --out or the cache, then `bitlens generate` runs the
// imported folder; usage and input errors give exit codes 2 and 1 with a message.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../../cli-run.js';
import { exportGguf } from '../../../engine/node/import/export-gguf.js';
import { loadModelDir } from '../../../engine/node/model-dir.js';
import { blockConfig, exactWeights, workspace, writeOriginal, type Workspace } from './fixtures.js';

describe('bitlens import', () => {
  let ws: Workspace;
  let gguf: string;
  beforeAll(async () => {
    ws = await workspace();
    await writeOriginal(ws.at('orig'), exactWeights(blockConfig({ numLayers: 1 }), 1));
    gguf = ws.at('m.gguf');
    await exportGguf(await loadModelDir(ws.at('orig')), gguf, { weightType: 'TQ1_0' });
  });
  afterAll(() => ws.cleanup());

  it('imports a GGUF file into --out, then generate runs it', async () => {
    const r = await run(['import', gguf, '--out', ws.at('out')]);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(ws.at('out'));
    expect(r.err).toMatch(/GGUF BitNet \(TQ1_0 weights\); [\d.]+ s, peak RSS/);
    const g = await run(['generate', '--model', ws.at('out'), '--prompt', 'hello', '--max-tokens', '3', '--device', 'cpu']);
    expect(g.code).toBe(0);
    expect(g.err).toMatch(/prompt \d+ tokens/);
  });

  it('imports into the cache once, then reports the cached folder', async () => {
    const a = await run(['import', gguf, '--cache-dir', ws.at('cache')]);
    const b = await run(['import', gguf, '--cache-dir', ws.at('cache')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.out).toBe(a.out);
    expect(b.err).toMatch(/^cached import/);
  });

  it('generate and bench open a GGUF file directly (imported once into the cache)', async () => {
    const before = process.env.BITLENS_CACHE_DIR;
    process.env.BITLENS_CACHE_DIR = ws.at('direct-cache');
    try {
      const g = await run(['generate', '--model', gguf, '--prompt', 'hello', '--max-tokens', '3', '--device', 'cpu']);
      expect(g.code).toBe(0);
      expect(g.err).toMatch(/m\.gguf: imported \(GGUF BitNet \(TQ1_0 weights\)\) in [\d.]+ s: .*direct-cache/);
      expect(g.err).toMatch(/prompt \d+ tokens/);
      const b = await run(['bench', '--model', gguf, '--prompt-tokens', '4', '--gen-tokens', '2', '--device', 'cpu', '--json']);
      expect(b.code).toBe(0);
      expect(b.err).toMatch(/m\.gguf: cached import: /);
      expect(JSON.parse(b.out).generatedTokens).toBe(2);
      const plain = await run(['generate', '--model', ws.at('orig'), '--prompt', 'x', '--max-tokens', '1', '--device', 'cpu']);
      expect(plain.code).toBe(0);
      expect(plain.err).not.toMatch(/import/);
      const truncated = ws.at('cut.gguf');
      await writeFile(truncated, (await readFile(gguf)).subarray(0, 200));
      const cut = await run(['generate', '--model', truncated, '--prompt', 'x', '--device', 'cpu']);
      expect(cut.code).toBe(1);
      expect(cut.err).toMatch(/bitlens generate: .*cut\.gguf/);
    } finally {
      if (before === undefined) delete process.env.BITLENS_CACHE_DIR;
      else process.env.BITLENS_CACHE_DIR = before;
    }
  });

  it('reports usage and input errors', async () => {
    expect((await run(['import'])).code).toBe(2);
    expect((await run(['import', gguf, '--activation', 'gelu'])).err).toMatch(/--activation "gelu" is not one of relu2, silu/);
    const missing = await run(['import', ws.at('nope.gguf'), '--out', ws.at('x')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.gguf: does not exist/);
  });
});
