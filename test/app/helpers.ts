// Tiny random models in the real folder format, and temp dirs, for the app tests.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { byteLevelTokenizerJson } from '../../engine/common/byte-tokenizer.js';
import { randomModelWeights, tinyConfig } from '../../engine/common/random-model.js';
import { writeModelDir } from '../../engine/node/model-dir.js';

export function tempDir(prefix = 'bitlens-app-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a tiny random model (byte-level vocabulary, no EOS id ever sampled in practice) to dir. */
export async function writeTinyModel(dir: string, opts: { name?: string; scheme?: 'b1.58' | 'v2-a4'; seed?: number; context?: number } = {}): Promise<string> {
  const config = tinyConfig({
    vocabSize: 260,
    bosTokenId: 256,
    eosTokenIds: [257],
    maxPositionEmbeddings: opts.context ?? 256,
    scheme: opts.scheme ?? 'b1.58',
    name: opts.name ?? 'tiny-test',
  });
  mkdirSync(path.dirname(dir), { recursive: true });
  await writeModelDir(dir, {
    config,
    weights: randomModelWeights(config, opts.seed ?? 1),
    tokenizerJson: byteLevelTokenizerJson([
      { id: 256, content: '<s>' },
      { id: 257, content: '</s>' },
    ]),
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' },
  });
  return dir;
}
