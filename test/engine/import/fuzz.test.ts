// Seeded fuzzing of the readers: truncated and bit-flipped GGUF and safetensors checkpoints go
// through the whole importer. Every case must end either in a complete import or in a
// ModelFormatError naming the file; never another exception, a crash or a hang (the test timeout).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { parseGgufHeader } from '../../../engine/common/formats/gguf.js';
import { Rng } from '../../../engine/common/random-model.js';
import { exportGguf } from '../../../engine/node/import/export-gguf.js';
import { writeHfCheckpoint } from '../../../engine/node/import/export-hf.js';
import { importModel } from '../../../engine/node/import/index.js';
import { loadModelDir } from '../../../engine/node/model-dir.js';
import { blockConfig, exactWeights, smallConfig, workspace, writeOriginal, type Workspace } from './fixtures.js';

const CASES = 150;

let ws: Workspace;
beforeAll(async () => {
  ws = await workspace();
});
afterAll(() => ws.cleanup());

/** Mutates `good`: a truncation (1 in 3) or 1-3 bit flips, mostly in the first `hot` bytes. */
function mutate(good: Uint8Array, rng: Rng, hot: number): { bytes: Uint8Array; what: string } {
  if (rng.nextU32() % 3 === 0) {
    const n = rng.nextU32() % good.length;
    return { bytes: good.slice(0, n), what: `truncated to ${n} bytes` };
  }
  const bytes = good.slice();
  const flips: number[] = [];
  for (let k = 0, n = 1 + (rng.nextU32() % 3); k < n; k++) {
    const pos = rng.next() < 0.8 ? rng.nextU32() % Math.min(hot, good.length) : rng.nextU32() % good.length;
    bytes[pos] ^= 1 << (rng.nextU32() % 8);
    flips.push(pos);
  }
  return { bytes, what: `bits flipped at ${flips.join(', ')}` };
}

async function expectCleanOutcome(run: () => Promise<unknown>, what: string): Promise<'ok' | 'refused'> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw new Error(`${what}: ${(e as Error)?.stack ?? e}`);
    expect(e.message.length).toBeGreaterThan(10);
    return 'refused';
  }
}

describe('fuzzing the importers', () => {
  it(`GGUF: ${CASES} truncated / bit-flipped files`, async () => {
    const orig = ws.at('gguf-orig');
    await writeOriginal(orig, exactWeights(blockConfig({ numLayers: 1, intermediateSize: 256, vocabSize: 264 }), 9));
    const file = ws.at('fuzz.gguf');
    await exportGguf(await loadModelDir(orig), file, { weightType: 'TQ2_0' });
    const good = new Uint8Array(await readFile(file));
    const hot = parseGgufHeader(good, file).dataOffset;
    const rng = new Rng(2024);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const { bytes, what } = mutate(good, rng, hot);
      await writeFile(file, bytes);
      outcomes[await expectCleanOutcome(() => importModel(file, ws.at('gguf-out')), `case ${i} (${what})`)]++;
    }
    expect(outcomes.refused).toBeGreaterThan(CASES / 2);
    // Refused imports leave no temporary folders behind.
    expect((await readdir(ws.root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it(`safetensors (Hugging Face packed): ${CASES} truncated / bit-flipped files`, async () => {
    const orig = ws.at('hf-orig');
    await writeOriginal(orig, exactWeights(smallConfig({ numLayers: 1 }), 9));
    const dir = ws.at('hf');
    await writeHfCheckpoint(orig, dir, 'hf-packed');
    const file = path.join(dir, 'model.safetensors');
    const good = new Uint8Array(await readFile(file));
    const hot = 8 + Number(new DataView(good.buffer).getBigUint64(0, true));
    const rng = new Rng(7);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const { bytes, what } = mutate(good, rng, hot);
      await writeFile(file, bytes);
      outcomes[await expectCleanOutcome(() => importModel(dir, ws.at('hf-out')), `case ${i} (${what})`)]++;
    }
    expect(outcomes.refused).toBeGreaterThan(CASES / 2);
    await rm(ws.at('hf-out'), { recursive: true, force: true });
    expect((await readdir(ws.root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
