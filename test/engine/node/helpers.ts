// Tiny random models written to temp folders in the real on-disk format, for the engine tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { byteLevelTokenizerJson } from '../../../engine/common/byte-tokenizer.js';
import type { ModelConfig } from '../../../engine/common/config.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import type { ModelWeights } from '../../../engine/common/weights.js';
import { writeModelDir } from '../../../engine/node/model-dir.js';

export const BOS = 256;
export const EOS = 257;

/** Byte-level vocabulary (0..255) plus BOS/EOS: vocab 260 leaves two unused ids. */
export function testConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return tinyConfig({ vocabSize: 260, bosTokenId: BOS, eosTokenIds: [EOS], maxPositionEmbeddings: 96, ...overrides });
}

export interface TempModel {
  dir: string;
  weights: ModelWeights;
  cleanup(): Promise<void>;
}

export async function writeTempModel(config: ModelConfig, seed = 1, tokenizerConfig: Record<string, unknown> = {}): Promise<TempModel> {
  const root = await mkdtemp(path.join(tmpdir(), 'bitlens-engine-'));
  const dir = path.join(root, 'model');
  const weights = randomModelWeights(config, seed);
  await writeModelDir(dir, {
    config,
    weights,
    tokenizerJson: byteLevelTokenizerJson([
      { id: BOS, content: '<s>' },
      { id: EOS, content: '</s>' },
    ]),
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>', ...tokenizerConfig },
  });
  return { dir, weights, cleanup: () => rm(root, { recursive: true, force: true }) };
}
