// The screened LM head through the engine (EngineOptions.lmHead, native CPU backend): generation
// draws the same tokens as with the full head (greedy on every scheme, top-k sampling with a seed
// and a repetition penalty), plain temperature sampling and forward() use the full head, and the
// screening really ran (rows re-scored per token well below the vocabulary).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplingOptions } from '../../../engine/common/api.js';
import { SCHEMES, type Scheme } from '../../../engine/common/scheme.js';
import { createEngine, type NodeEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';

const GREEDY: SamplingOptions = { maxTokens: 10, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
const TRAINED = 'assets/models/bitlens-v2';

async function pair(dir: string, scheme: Scheme): Promise<{ screened: NodeEngine; full: NodeEngine }> {
  const run = { scheme, kvBits: 16 as const, device: 'cpu' as const, taps: false };
  const screened = await createEngine(dir, run, { cpuBackend: 'native', threads: 2 });
  const full = await createEngine(dir, run, { cpuBackend: 'native', threads: 2, lmHead: 'full' });
  return { screened, full };
}

async function same(e: { screened: NodeEngine; full: NodeEngine }, prompt: number[], s: SamplingOptions) {
  const a = await e.screened.generateFromIds(prompt, s, undefined, undefined, { ignoreEos: true });
  const b = await e.full.generateFromIds(prompt, s, undefined, undefined, { ignoreEos: true });
  expect(a.tokenIds).toHaveLength(s.maxTokens);
  expect(a.tokenIds).toEqual(b.tokenIds);
}

describe.each([
  ['random model', ''],
  ['bitlens-v2', TRAINED],
])('screened vs full LM head, %s', (_name, trained) => {
  let model: TempModel | undefined;
  let dir: string;
  beforeAll(async () => {
    if (trained) dir = trained;
    else {
      model = await writeTempModel(testConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, intermediateSize: 96 }), 9);
      dir = model.dir;
    }
  });
  afterAll(() => model?.cleanup());

  it.each(SCHEMES)('%s: greedy tokens are equal and the head was screened', async (scheme) => {
    const e = await pair(dir, scheme);
    try {
      expect(e.full.lmHeadStats()).toBeUndefined();
      const vocab = e.screened.info.config.vocab_size as number;
      await same(e, [BOS % vocab, 10, 20, 30, 40], GREEDY);
      await same(e, [BOS % vocab, 10, 20, 30, 40], { ...GREEDY, repetitionPenalty: 1.4 });
      const st = e.screened.lmHeadStats()!;
      expect(st.steps).toBe(2 * GREEDY.maxTokens);
      expect(st.rescoredRows / st.steps).toBeLessThan(vocab / 4);
      expect(st.bytes).toBeGreaterThanOrEqual(vocab * (e.screened.info.config.hidden_size as number));
    } finally {
      await e.screened.close();
      await e.full.close();
    }
  });

  it('top-k sampling with a seed draws the same tokens (repetition penalty above and below 1); temperature without top-k and forward() use the full head', async () => {
    const e = await pair(dir, 'v2-a4');
    try {
      const vocab = e.screened.info.config.vocab_size as number;
      const prompt = [BOS % vocab, 5, 6, 7];
      for (const [topK, repetitionPenalty, seed] of [[5, 1, 1], [40, 1.3, 2], [3, 0.8, 3], [1, 1.1, 4]] as const) {
        await same(e, prompt, { maxTokens: 12, temperature: 0.9, topK, topP: 0.95, repetitionPenalty, seed, stop: [] });
      }
      const before = e.screened.lmHeadStats()!.steps;
      await same(e, prompt, { maxTokens: 6, temperature: 0.9, topK: 0, topP: 1, repetitionPenalty: 1.2, seed: 5, stop: [] });
      expect(e.screened.lmHeadStats()!.steps).toBe(before);
      const a = (await e.screened.forward(prompt, true)).logits;
      const b = (await e.full.forward(prompt, true)).logits;
      expect(a.every(Number.isFinite)).toBe(true);
      expect(a).toEqual(b);
      expect(e.screened.lmHeadStats()!.steps).toBe(before);
    } finally {
      await e.screened.close();
      await e.full.close();
    }
  });
});

it('refuses an unknown lmHead option', async () => {
  await expect(createEngine(TRAINED, { scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: false }, { lmHead: 'int4' as never })).rejects.toThrow(/unknown lmHead "int4"/);
});
