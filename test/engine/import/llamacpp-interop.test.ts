// GGUF files written by exportGguf run in real llama.cpp (the prebuilt CPU addon of the optional
// dependency @node-llama-cpp/linux-x64; skipped where it is not installed) and greedy-decode the same
// tokens as the BitLens float64 reference: tensor names, GQA, SubLN, RoPE row order and the ternary
// block layouts agree. The model uses SwiGLU: llama.cpp's "bitnet" graph has no ReLU² (it falls back
// to SiLU), so a ReLU² model decodes differently there by design.
// Seed 4 is chosen so that every step's top-2 logit gap is > 0.1 (asserted), far above the
// activation-quantization noise of llama.cpp's TQ kernels.
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../../engine/common/byte-tokenizer.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import { argmax, ReferenceModel } from '../../../engine/common/reference.js';
import type { ModelWeights } from '../../../engine/common/weights.js';
import { exportGguf, type GgufExportOptions } from '../../../engine/node/import/export-gguf.js';
import { importModel } from '../../../engine/node/import/index.js';
import { loadModelDir, writeModelDir } from '../../../engine/node/model-dir.js';
import { workspace, type Workspace } from './fixtures.js';

const require = createRequire(import.meta.url);
function addonDir(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('@node-llama-cpp/linux-x64')), '..', 'bins', 'linux-x64');
  } catch {
    return undefined;
  }
}
const BINS = addonDir();
const PROMPT = [256, 72, 101, 108, 108, 111, 32, 119, 111, 114];
const STEPS = 10;

interface Addon {
  setLogger(f: (level: number, msg: string) => void): void;
  loadBackends(dir: string): void;
  init(): Promise<void>;
  AddonModel: new (file: string, o: object) => { init(): Promise<boolean>; dispose(): Promise<void> };
  AddonContext: new (model: object, o: object) => {
    init(): Promise<boolean>;
    initBatch(n: number): void;
    addToBatch(seq: number, pos: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
    decodeBatch(): Promise<void>;
    sampleToken(i: number, sampler: object): Promise<number>;
    dispose(): Promise<void>;
  };
  AddonSampler: new (model: object) => { applyConfig(c: object): void };
}

describe.skipIf(!BINS)('llama.cpp runs exported GGUF files', () => {
  let ws: Workspace;
  let addon: Addon;
  let dir: string;
  let want: number[];
  beforeAll(async () => {
    ws = await workspace();
    const config = tinyConfig({ vocabSize: 300, bosTokenId: 256, eosTokenIds: [257], hiddenSize: 256, numHeads: 4, numKvHeads: 2, intermediateSize: 512, activation: 'swiglu', scheme: 'fp', maxPositionEmbeddings: 128 });
    const weights = randomModelWeights(config, 4);
    dir = ws.at('model');
    await writeModelDir(dir, { config, weights, tokenizerJson: byteLevelTokenizerJson([{ id: 256, content: '<s>' }, { id: 257, content: '</s>' }]), tokenizerConfig: {} });
    want = referenceGreedy(weights);
    addon = require(path.join(BINS!, 'llama-addon.node')) as Addon;
    addon.setLogger(() => {});
    addon.loadBackends(BINS!);
    await addon.init();
  });
  afterAll(() => ws?.cleanup());

  function referenceGreedy(weights: ModelWeights): number[] {
    const ref = new ReferenceModel(weights, { scheme: 'fp', kvBits: 16 });
    let logits = ref.forward(PROMPT);
    const out: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const sorted = [...logits].sort((a, b) => b - a);
      expect(sorted[0] - sorted[1], 'reference top-2 gap').toBeGreaterThan(0.05);
      out.push(argmax(logits));
      logits = ref.forward([out[s]]);
    }
    return out;
  }

  async function llamaGreedy(file: string): Promise<number[]> {
    const model = new addon.AddonModel(file, { addonExports: addon, gpuLayers: 0, useMmap: false });
    if (!(await model.init())) throw new Error(`llama.cpp could not load ${file}`);
    const ctx = new addon.AddonContext(model, { contextSize: 64, batchSize: 64, sequences: 1, threads: 1, flashAttention: false });
    if (!(await ctx.init())) throw new Error('llama.cpp could not create a context');
    try {
      const sampler = new addon.AddonSampler(model);
      sampler.applyConfig({ temperature: 0 });
      ctx.initBatch(PROMPT.length);
      let r = ctx.addToBatch(0, 0, Uint32Array.from(PROMPT), Uint32Array.of(PROMPT.length - 1));
      await ctx.decodeBatch();
      const out = [await ctx.sampleToken(r[0], sampler)];
      for (let s = 1; s < STEPS; s++) {
        ctx.initBatch(1);
        r = ctx.addToBatch(0, PROMPT.length + s - 1, Uint32Array.of(out[s - 1]), Uint32Array.of(0));
        await ctx.decodeBatch();
        out.push(await ctx.sampleToken(r[0], sampler));
      }
      return out;
    } finally {
      await ctx.dispose();
      await model.dispose();
    }
  }

  it.each([
    ['TQ2_0', { weightType: 'TQ2_0' }],
    ['TQ1_0', { weightType: 'TQ1_0' }],
    ['TQ2_0 with f32 scale tensors', { weightType: 'TQ2_0', separateScale: true }],
    ['F32', { weightType: 'F32' }],
  ] as const)('%s: same greedy tokens as the BitLens reference', async (label, opts: GgufExportOptions) => {
    const file = ws.at(`${label.replace(/\W+/g, '_')}.gguf`);
    await exportGguf(await loadModelDir(dir), file, opts);
    expect(await llamaGreedy(file)).toEqual(want);
  });

  // Embeddings as llama-quantize leaves them in downloaded files. BitLens decodes them (to F16) on
  // import; its reference on the imported model must decode llama.cpp's tokens, which checks the
  // block decoders against llama.cpp's own (a wrong nibble or scale order changes the tokens).
  it.each(['Q8_0', 'Q6_K', 'Q4_K'] as const)('token_embd in %s: imported and decoded as llama.cpp does', async (embedType) => {
    const file = ws.at(`embed-${embedType}.gguf`);
    await exportGguf(await loadModelDir(dir), file, { weightType: 'TQ2_0', embedType });
    await importModel(file, ws.at(`embed-${embedType}`));
    const imported = await loadModelDir(ws.at(`embed-${embedType}`));
    const got = await llamaGreedy(file);
    expect(new Set(got).size, 'a varied token sequence').toBeGreaterThan(2);
    expect(got).toEqual(referenceGreedy(imported.weights));
  });
});
