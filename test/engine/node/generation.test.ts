// Generation through the Engine interface on real CPU sessions: greedy equals the reference, EOS,
// stop strings and streaming, cancellation, seeded sampling, taps on/off, chat templates, bad input.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationStep, RunOptions, SamplingOptions } from '../../../engine/common/api.js';
import { randomModelWeights } from '../../../engine/common/random-model.js';
import { greedy, ReferenceModel } from '../../../engine/common/reference.js';
import { createEngine, type EngineOptions, type NodeEngine } from '../../../engine/node/engine.js';
import { BOS, EOS, testConfig, writeTempModel, type TempModel } from './helpers.js';

const GREEDY: SamplingOptions = { maxTokens: 16, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
const RUN: RunOptions = { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false };
// This suite runs ONNX Runtime sessions; native-backend.test.ts runs the same loop on the native kernels.
const ORT: EngineOptions = { cpuBackend: 'ort' };
const bytesOf = (s: string) => [...new TextEncoder().encode(s)];

describe('generation', () => {
  let model: TempModel;
  let engine: NodeEngine;
  beforeAll(async () => {
    model = await writeTempModel(testConfig(), 3);
    engine = await createEngine(model.dir, RUN, ORT);
  });
  afterAll(async () => {
    await engine.close();
    await model.cleanup();
  });

  it('reports the model, device and weight statistics', () => {
    const info = engine.info;
    expect(info.device).toBe('cpu');
    expect(info.deviceNote).toBe('cpu: onnxruntime');
    expect(info.contextLength).toBe(96);
    expect(info.run).toEqual(RUN);
    expect(info.weightBytesPacked).toBeLessThan(info.weightBytesFp16);
    expect(info.projections).toHaveLength(2);
    const q = info.projections[0].q;
    expect([q.rows, q.cols]).toEqual([32, 32]);
    expect(q.alpha).toBeCloseTo(model.weights.layers[0].q.alpha, 6);
    // Random codes are uniform over {-1, 0, 1}.
    expect(q.zeroFraction).toBeGreaterThan(0.2);
    expect(q.zeroFraction).toBeLessThan(0.47);
  });

  it('greedy generation from a raw prompt equals the reference ([BOS] + bytes), streaming consistent text and stats', async () => {
    const steps: GenerationStep[] = [];
    const r = await engine.generateFromIds([BOS, ...bytesOf('Hi!')], GREEDY, (s) => steps.push(s), undefined, { ignoreEos: true });
    const want = greedy(new ReferenceModel(model.weights, { scheme: 'b1.58', kvBits: 16 }), [BOS, ...bytesOf('Hi!')], 16);
    expect(r.tokenIds).toEqual(want);
    const viaText = await engine.generate({ prompt: 'Hi!' }, { ...GREEDY, maxTokens: 4 });
    expect(viaText.tokenIds).toEqual(want.slice(0, viaText.tokenIds.length));
    expect(steps.map((s) => s.tokenId)).toEqual(r.tokenIds);
    expect(steps.map((s) => s.text).join('')).toBe(r.text);
    expect(r.finishReason).toBe('length');
    expect(steps[0].stats.phase).toBe('prefill');
    expect(steps[1].stats.phase).toBe('decode');
    expect(steps.map((s) => s.stats.generatedTokens)).toEqual(steps.map((_, i) => i + 1));
    expect(r.stats.promptTokens).toBe(4);
    expect(r.stats.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(r.stats.decodeTokensPerSec).toBeGreaterThan(0);
    expect(r.stats.rssBytes).toBeGreaterThan(0);
    expect(r.stats.kvCacheBytes).toBe(r.stats.kvCacheBytesFp16); // 16 bits
    expect(steps[0].taps).toBeUndefined();
  });

  it('stops at a stop string without streaming it', async () => {
    const free = await engine.generateFromIds([BOS, ...bytesOf('ab')], { ...GREEDY, maxTokens: 24 }, undefined, undefined, { ignoreEos: true });
    const text = free.text;
    expect(text.length).toBeGreaterThan(6);
    const stop = text.slice(3, 5);
    const streamed: string[] = [];
    const r = await engine.generateFromIds([BOS, ...bytesOf('ab')], { ...GREEDY, maxTokens: 24, stop: [stop] }, (s) => streamed.push(s.text), undefined, { ignoreEos: true });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(streamed.join('')).toBe(r.text);
  });

  it('cancels mid-generation, and returns at once for an already aborted signal', async () => {
    const abort = new AbortController();
    const r = await engine.generate({ prompt: 'abc' }, { ...GREEDY, maxTokens: 40 }, (s) => s.stats.generatedTokens === 3 && abort.abort(), abort.signal);
    expect(r.finishReason).toBe('cancelled');
    expect(r.tokenIds).toHaveLength(3);
    const pre = new AbortController();
    pre.abort();
    const r2 = await engine.generate({ prompt: 'abc' }, GREEDY, undefined, pre.signal);
    expect(r2).toMatchObject({ finishReason: 'cancelled', tokenIds: [] });
  });

  it('cancels from a timer while decoding (the engine yields between steps)', async () => {
    const abort = new AbortController();
    let steps = 0;
    setTimeout(() => abort.abort(), 30);
    const r = await engine.generateFromIds([BOS, 1, 2], { ...GREEDY, maxTokens: 90 }, () => {
      steps++;
      const until = performance.now() + 2; // slow steps so the timer lands mid-generation
      while (performance.now() < until);
    }, abort.signal, { ignoreEos: true });
    expect(r.finishReason).toBe('cancelled');
    expect(steps).toBeLessThan(90);
  });

  it('sampling is reproducible with a seed', async () => {
    const s: SamplingOptions = { maxTokens: 20, temperature: 1.2, topK: 40, topP: 0.95, repetitionPenalty: 1.1, stop: [], seed: 42 };
    const a = await engine.generateFromIds([BOS, 5], s, undefined, undefined, { ignoreEos: true });
    const b = await engine.generateFromIds([BOS, 5], s, undefined, undefined, { ignoreEos: true });
    const c = await engine.generateFromIds([BOS, 5], { ...s, seed: 7 }, undefined, undefined, { ignoreEos: true });
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(c.tokenIds).not.toEqual(a.tokenIds);
  });

  it('rejects a prompt longer than the context and bad sampling options', async () => {
    await expect(engine.generate({ prompt: 'x'.repeat(200) }, GREEDY)).rejects.toThrow(/prompt is 201 tokens, longer than the context of 96 tokens/);
    await expect(engine.generate({ prompt: 'x' }, { ...GREEDY, topP: 0 })).rejects.toThrow(/topP/);
    await expect(engine.generate({ prompt: 'x' }, { ...GREEDY, maxTokens: 0 })).rejects.toThrow(/maxTokens/);
  });

  it('stops at the context length', async () => {
    const r = await engine.generateFromIds(new Array(90).fill(7), { ...GREEDY, maxTokens: 50 }, undefined, undefined, { ignoreEos: true });
    expect(r.finishReason).toBe('length');
    expect(r.tokenIds).toHaveLength(6);
  });
});

describe('generation: EOS, taps, chat template', () => {
  it('finishes at an EOS token', async () => {
    const first = greedy(new ReferenceModel(randomModelWeights(testConfig(), 3), { scheme: 'b1.58', kvBits: 16 }), [BOS, ...bytesOf('Hi!')], 3);
    // Same weights (they depend on the seed and tensor names only), with the 3rd greedy token as EOS.
    const m = await writeTempModel(testConfig({ eosTokenIds: [first[2]] }), 3);
    const e = await createEngine(m.dir, RUN, ORT);
    const r = await e.generate({ prompt: 'Hi!' }, GREEDY);
    expect(r.finishReason).toBe('eos');
    expect(r.tokenIds).toEqual(first.slice(0, first.indexOf(first[2]) + 1));
    await e.close();
    await m.cleanup();
  });

  it('with taps on, every step carries a TapFrame of the token fed', async () => {
    const m = await writeTempModel(testConfig({ numLayers: 1 }), 5);
    const e = await createEngine(m.dir, { scheme: 'v2-a4', kvBits: 4, device: 'cpu', taps: true }, ORT);
    const steps: GenerationStep[] = [];
    const r = await e.generate({ prompt: 'ok' }, { ...GREEDY, maxTokens: 3 }, (s) => steps.push(s));
    expect(steps).toHaveLength(r.tokenIds.length);
    expect(steps[0].taps).toMatchObject({ position: 2, tokenId: 'k'.charCodeAt(0) });
    expect(steps[1].taps).toMatchObject({ position: 3, tokenId: r.tokenIds[0] });
    expect(Object.keys(steps[0].taps!.layers[0]).sort()).toEqual(['down', 'downPreHadamard', 'gateup', 'o', 'oPreHadamard', 'qkv']);
    expect(steps[0].taps!.layers[0].down).toHaveLength(64);
    expect(r.stats.kvCacheBytes).toBeLessThan(r.stats.kvCacheBytesFp16);
    await e.close();
    await m.cleanup();
  });

  it('renders messages with the chat template (BOS once), or the plain fallback', async () => {
    const tpl = "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
    const m = await writeTempModel(testConfig(), 3, { chat_template: tpl });
    const e = await createEngine(m.dir, RUN, ORT);
    const msgs = [{ role: 'user' as const, content: 'hey' }];
    const r = await e.generate({ messages: msgs }, { ...GREEDY, maxTokens: 4 });
    const want = greedy(new ReferenceModel(m.weights, { scheme: 'b1.58', kvBits: 16 }), [BOS, ...bytesOf('user: hey\nassistant:')], 4);
    expect(r.tokenIds).toEqual(want.slice(0, r.tokenIds.length));
    expect(r.stats.promptTokens).toBe(1 + 'user: hey\nassistant:'.length);
    await e.close();
    await m.cleanup();

    const m2 = await writeTempModel(testConfig(), 3);
    const e2 = await createEngine(m2.dir, RUN, ORT);
    const r2 = await e2.generate({ messages: msgs }, { ...GREEDY, maxTokens: 1 });
    expect(r2.stats.promptTokens).toBe(1 + 'User: hey\nAssistant:'.length);
    await e2.close();
    await m2.cleanup();
  });
});

describe('bad input', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig(), 3);
  });
  afterAll(() => model.cleanup());

  it('unknown scheme, device or KV bits', async () => {
    await expect(createEngine(model.dir, { ...RUN, scheme: 'b2' as never }, ORT)).rejects.toThrow(/unknown scheme "b2" \(expected one of fp, b1.58, a4.8, v2-a8, v2-a4\)/);
    await expect(createEngine(model.dir, { ...RUN, device: 'tpu' as never }, ORT)).rejects.toThrow(/unknown device "tpu"/);
    await expect(createEngine(model.dir, { ...RUN, kvBits: 5 as never }, ORT)).rejects.toThrow(/unsupported kv bits 5/);
  });

  it('a missing model folder or tokenizer', async () => {
    await expect(createEngine(path.join(model.dir, 'nope'), RUN)).rejects.toThrow(/model folder does not exist/);
    const m = await writeTempModel(testConfig(), 3);
    await rm(path.join(m.dir, 'tokenizer.json'));
    await expect(createEngine(m.dir, RUN, ORT)).rejects.toThrow(/tokenizer\.json.*file is missing/);
    await m.cleanup();
  });

  it('a Hadamard scheme on a width with no construction names the width', async () => {
    const m = await writeTempModel(testConfig({ hiddenSize: 56, numHeads: 4, intermediateSize: 64 }), 3);
    await expect(createEngine(m.dir, { ...RUN, scheme: 'v2-a8' }, ORT)).rejects.toThrow(/width 56/);
    await m.cleanup();
  });

  it('a GPU device that cannot start falls back to the CPU with the reason', async () => {
    const e = await createEngine(model.dir, { ...RUN, device: 'coreml' }, ORT);
    expect(e.info.device).toBe('cpu');
    expect(e.info.deviceNote).toMatch(/coreml/);
    await e.close();
  });

  it('token ids outside the vocabulary', async () => {
    const e = await createEngine(model.dir, RUN, ORT);
    await expect(e.forward([BOS, 999], true)).rejects.toThrow(/token id 999 is outside the vocabulary/);
    await expect(e.generateFromIds([EOS, -1], GREEDY)).rejects.toThrow(/token id -1/);
    await e.close();
  });
});
