// The engine on the native CPU runner (EngineOptions.cpuBackend): the same generation loop as on
// ONNX Runtime gives the reference's logits, taps and greedy tokens, stops and cancels; 'auto'
// picks native and says so, falls back to ONNX Runtime with the reason when it cannot (an
// experiment, a missing addon in a child process), and bad cpuBackend values are refused.
// Tolerance as in test/native/model.test.ts: ~1e-6 on logits; a .5-boundary flip may move later
// logits by ~1e-2 (allowed up to 0.25); greedy tokens must be identical.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationStep, KvBits, SamplingOptions } from '../../../engine/common/api.js';
import { argmax, greedy, ReferenceModel } from '../../../engine/common/reference.js';
import type { Scheme } from '../../../engine/common/scheme.js';
import { createEngine, type NodeEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';
import { maxDiff, maxTapDiff } from '../../reference-compare.js';

const FLIP = 0.25;
const GREEDY: SamplingOptions = { maxTokens: 12, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
const NATIVE_NOTE = /^cpu: native kernels \((avx512|avx2|neon|portable)\)$/;


describe('engine, cpuBackend native vs reference', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80, activation: 'swiglu', tieWordEmbeddings: false }), 7);
  });
  afterAll(() => model.cleanup());

  const CASES: [Scheme, KvBits][] = [
    ['b1.58', 16],
    ['v2-a4', 4],
    ['a4.8', 8],
    ['v2-a8', 3],
  ];
  it.each(CASES)('%s, KV %i bits: logits, taps and greedy tokens through forward() and generateFromIds()', async (scheme, kvBits) => {
    const engine = await createEngine(model.dir, { scheme, kvBits, device: 'cpu', taps: true }, { cpuBackend: 'native', threads: 2 });
    try {
      expect(engine.info.device).toBe('cpu');
      expect(engine.info.deviceNote).toMatch(NATIVE_NOTE);
      const ref = new ReferenceModel(model.weights, { scheme, kvBits });
      let ids = [BOS, 72, 101, 108, 108, 111];
      let maxLogit = 0;
      let maxTap = 0;
      for (let s = 0; s < 8; s++) {
        const out = await engine.forward(ids, s === 0);
        const want = ref.forward(ids);
        maxLogit = Math.max(maxLogit, maxDiff(out.logits, want));
        const taps = out.taps!;
        expect(taps.position).toBe(ref.position - 1);
        expect(taps.tokenId).toBe(ids[ids.length - 1]);
        for (const layer of taps.layers) for (const v of Object.values(layer)) expect(v).toBeInstanceOf(Float32Array);
        maxTap = Math.max(maxTap, maxTapDiff(taps.layers, ref.lastTaps));
        expect(argmax(out.logits)).toBe(argmax(want));
        ids = [argmax(want)];
      }
      expect(maxLogit).toBeLessThan(FLIP);
      expect(maxTap).toBeLessThan(FLIP);

      const prompt = [BOS, 1, 2, 3];
      const steps: GenerationStep[] = [];
      const r = await engine.generateFromIds(prompt, GREEDY, (st) => steps.push(st), undefined, { ignoreEos: true });
      expect(r.tokenIds).toEqual(greedy(new ReferenceModel(model.weights, { scheme, kvBits }), prompt, GREEDY.maxTokens));
      expect(steps.map((st) => st.taps!.position)).toEqual(steps.map((_, i) => prompt.length - 1 + i));
      expect(r.stats.kvCacheBytes).toBeGreaterThan(0);
      expect(r.stats.decodeTokensPerSec).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });
});

describe('engine, cpuBackend native: generation', () => {
  let model: TempModel;
  let engine: NodeEngine;
  beforeAll(async () => {
    model = await writeTempModel(testConfig(), 3);
    engine = await createEngine(model.dir, { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false }, { cpuBackend: 'native', threads: 1 });
  });
  afterAll(async () => {
    await engine.close();
    await model.cleanup();
  });

  it('stops at a stop string, at EOS and at the context length', async () => {
    const free = await engine.generateFromIds([BOS, 97, 98], { ...GREEDY, maxTokens: 24 }, undefined, undefined, { ignoreEos: true });
    expect(free.text.length).toBeGreaterThan(6);
    const stop = free.text.slice(3, 5);
    const r = await engine.generateFromIds([BOS, 97, 98], { ...GREEDY, maxTokens: 24, stop: [stop] }, undefined, undefined, { ignoreEos: true });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(free.text.slice(0, free.text.indexOf(stop)));

    const long = await engine.generateFromIds(new Array(90).fill(7), { ...GREEDY, maxTokens: 50 }, undefined, undefined, { ignoreEos: true });
    expect(long).toMatchObject({ finishReason: 'length' });
    expect(long.tokenIds).toHaveLength(6);
    await expect(engine.forward([1, 2], false)).rejects.toThrow(/exceed the context of 96 tokens/);
  });

  it('finishes at an EOS token', async () => {
    const ids = (await engine.generateFromIds([BOS, 5], { ...GREEDY, maxTokens: 3 }, undefined, undefined, { ignoreEos: true })).tokenIds;
    const m = await writeTempModel(testConfig({ eosTokenIds: [ids[2]] }), 3);
    const e = await createEngine(m.dir, { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false }, { cpuBackend: 'native', threads: 1 });
    try {
      const r = await e.generateFromIds([BOS, 5], GREEDY);
      expect(r.finishReason).toBe('eos');
      expect(r.tokenIds).toEqual(ids.slice(0, ids.indexOf(ids[2]) + 1));
    } finally {
      await e.close();
      await m.cleanup();
    }
  });

  it('cancels from a step callback, from a timer between steps, and for an already aborted signal', async () => {
    const abort = new AbortController();
    const r = await engine.generate({ prompt: 'abc' }, { ...GREEDY, maxTokens: 40 }, (s) => s.stats.generatedTokens === 3 && abort.abort(), abort.signal);
    expect(r).toMatchObject({ finishReason: 'cancelled' });
    expect(r.tokenIds).toHaveLength(3);

    const timer = new AbortController();
    setTimeout(() => timer.abort(), 30);
    let steps = 0;
    const t = await engine.generateFromIds([BOS, 1, 2], { ...GREEDY, maxTokens: 90 }, () => {
      steps++;
      const until = performance.now() + 2; // slow steps so the timer lands mid-generation
      while (performance.now() < until);
    }, timer.signal, { ignoreEos: true });
    expect(t.finishReason).toBe('cancelled');
    expect(steps).toBeLessThan(90);

    const pre = new AbortController();
    pre.abort();
    expect(await engine.generate({ prompt: 'abc' }, GREEDY, undefined, pre.signal)).toMatchObject({ finishReason: 'cancelled', tokenIds: [] });
  });

  it('refuses to run after close', async () => {
    const e = await createEngine(model.dir, { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false }, { cpuBackend: 'native', threads: 1 });
    await e.close();
    await expect(e.forward([BOS], true)).rejects.toThrow(/engine is closed/);
  });
});

describe('engine, cpuBackend selection', () => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(testConfig(), 3);
  });
  afterAll(() => model.cleanup());
  const run = { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false } as const;

  it("'auto' (the default) runs the native kernels; 'ort' runs ONNX Runtime; both give the same greedy tokens", async () => {
    const auto = await createEngine(model.dir, run, { threads: 1 });
    const ort = await createEngine(model.dir, run, { cpuBackend: 'ort', threads: 1 });
    try {
      expect(auto.info.deviceNote).toMatch(NATIVE_NOTE);
      expect(ort.info.deviceNote).toBe('cpu: onnxruntime');
      const a = await auto.generateFromIds([BOS, 9, 8], GREEDY, undefined, undefined, { ignoreEos: true });
      const b = await ort.generateFromIds([BOS, 9, 8], GREEDY, undefined, undefined, { ignoreEos: true });
      expect(a.tokenIds).toEqual(b.tokenIds);
    } finally {
      await auto.close();
      await ort.close();
    }
  });

  it("'auto' uses ONNX Runtime with the reason for what native cannot run; 'native' refuses it", async () => {
    const exp = await createEngine(model.dir, { ...run, scheme: 'fp', experiment: 'v2-retrofit-w16a4' });
    expect(exp.info.deviceNote).toBe('cpu: onnxruntime (native kernels unavailable: experiment v2-retrofit-w16a4 runs on onnxruntime only)');
    await exp.close();
    const mm = await createEngine(model.dir, run, { matmul: 'fp32' });
    expect(mm.info.deviceNote).toMatch(/^cpu: onnxruntime \(native kernels unavailable: matmul is an onnxruntime option\)$/);
    await mm.close();
    await expect(createEngine(model.dir, { ...run, scheme: 'fp', experiment: 'v2-retrofit-w16a4' }, { cpuBackend: 'native' })).rejects.toThrow(/cpuBackend native cannot run this: experiment v2-retrofit-w16a4/);
  });

  it('an unknown cpuBackend is refused, naming the accepted values', async () => {
    await expect(createEngine(model.dir, run, { cpuBackend: 'gpu' as never })).rejects.toThrow(/unknown cpuBackend "gpu" \(expected one of auto, ort, native\)/);
  });

  it("a missing addon: 'auto' falls back to ONNX Runtime with the reason and generates; 'native' throws NativeUnavailableError (child process)", async () => {
    const code = `
      import { createEngine } from './engine/node/engine.ts';
      const run = { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false };
      const e = await createEngine(${JSON.stringify(model.dir)}, run);
      const r = await e.generateFromIds([${BOS}, 1], { maxTokens: 3, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] }, undefined, undefined, { ignoreEos: true });
      await e.close();
      let err = '';
      try { await createEngine(${JSON.stringify(model.dir)}, run, { cpuBackend: 'native' }); } catch (x) { err = x.name + ': ' + x.message; }
      console.log(JSON.stringify({ note: e.info.deviceNote, tokens: r.tokenIds.length, err }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, BITLENS_NATIVE_ADDON: '/nonexistent/bitlens_native.node' } }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.note).toMatch(/^cpu: onnxruntime \(native kernels unavailable: \/nonexistent\/bitlens_native\.node could not be loaded/);
    expect(r.tokens).toBe(3);
    expect(r.err).toMatch(/^NativeUnavailableError: the native CPU backend is unavailable: .*could not be loaded/);
  }, 30_000);
});
