// createEngineInWorker: the same Engine interface from a worker thread (streaming, abort, errors).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplingOptions } from '../../../engine/common/api.js';
import { createEngine } from '../../../engine/node/engine.js';
import { createEngineInWorker } from '../../../engine/node/worker-client.js';
import { testConfig, writeTempModel, type TempModel } from './helpers.js';

const GREEDY: SamplingOptions = { maxTokens: 12, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };

describe('engine in a worker thread', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig({ eosTokenIds: [259] }), 11); // 259 is never produced by text
  });
  afterAll(() => model.cleanup());

  it('streams the same tokens as the in-process engine, cancels, and reports errors', async () => {
    const run = { scheme: 'a4.8' as const, kvBits: 4 as const, device: 'cpu' as const, taps: true };
    const local = await createEngine(model.dir, run);
    const want = await local.generate({ prompt: 'worker' }, GREEDY);
    await local.close();

    const engine = await createEngineInWorker(model.dir, run);
    expect(engine.info.device).toBe('cpu');
    expect(engine.info.run).toEqual(run);
    const streamed: number[] = [];
    let tapped = 0;
    const got = await engine.generate({ prompt: 'worker' }, GREEDY, (s) => {
      streamed.push(s.tokenId);
      if (s.taps?.layers[0].qkv instanceof Float32Array) tapped++;
    });
    expect(got.tokenIds).toEqual(want.tokenIds);
    expect(got.text).toBe(want.text);
    expect(streamed).toEqual(want.tokenIds);
    expect(tapped).toBe(streamed.length);

    // The abort travels as a message queued right behind 'generate', so the worker sees it before its
    // second step whatever the decode speed (a mid-stream abort from onStep races a fast backend;
    // mid-generation cancellation itself is tested in-process in generation.test.ts).
    const abort = new AbortController();
    const pending = engine.generate({ prompt: 'worker' }, { ...GREEDY, maxTokens: 80 }, undefined, abort.signal);
    abort.abort();
    const cancelled = await pending;
    expect(cancelled.finishReason).toBe('cancelled');
    expect(cancelled.tokenIds.length).toBeLessThanOrEqual(1);

    await expect(engine.generate({ prompt: 'x'.repeat(300) }, GREEDY)).rejects.toThrow(RangeError);
    await engine.close();
  });

  it('rejects with the loader error when the model cannot be opened', async () => {
    await expect(createEngineInWorker(`${model.dir}-missing`, { scheme: 'fp', kvBits: 16, device: 'cpu', taps: false })).rejects.toThrow(/model folder does not exist/);
  });
});
