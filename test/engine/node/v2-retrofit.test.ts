// The "what if v2" experiment (engine/common/experiment.ts, 'v2-retrofit-w16a4'): ORT against the
// float64 reference on tiny models, one with Sylvester widths and one with Paley factors (hidden 48 =
// 12*4, FFN 80 = 20*4; Paley matrices are not symmetric, so a transposed H would show), and the
// identity it rests on: without activation quantization (scheme fp) the rotation cancels
// (HᵀH = I) and the logits are the plain model's. Tolerances as in engine-vs-reference.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../engine/common/config.js';
import { denseHadamard } from '../../../engine/common/hadamard.js';
import { argmax, ReferenceModel, rotatedWeights } from '../../../engine/common/reference.js';
import { unpackTernary } from '../../../engine/common/ternary.js';
import { createEngine } from '../../../engine/node/engine.js';
import { BOS, testConfig, writeTempModel, type TempModel } from './helpers.js';
import { maxTapDiff } from '../../reference-compare.js';

const STRICT = 1e-4;
const FLIP = 0.25;
const EXP = 'v2-retrofit-w16a4' as const;
const PROMPT = [BOS, 72, 101, 108, 108, 111];

const SHAPES: [string, ModelConfig][] = [
  ['pow2 (hidden 32, ffn 64)', testConfig({ scheme: 'b1.58' })],
  ['Paley (hidden 48 = 12*4, ffn 80 = 20*4, swiglu)', testConfig({ hiddenSize: 48, numHeads: 4, numKvHeads: 2, intermediateSize: 80, activation: 'swiglu', scheme: 'b1.58' })],
];

describe.each(SHAPES)('v2 retrofit experiment: %s', (_label, config) => {
  let model: TempModel;
  beforeAll(async () => {
    model = await writeTempModel(config, 11);
  });
  afterAll(() => model.cleanup());

  it('rotated weights are W Hᵀ with W = alpha * w (dense check)', () => {
    for (const p of ['o', 'down'] as const) {
      const b = model.weights.layers[0][p];
      const w = unpackTernary(b.packed, b.rows, b.cols);
      const H = denseHadamard(b.cols);
      const got = rotatedWeights(b);
      let maxDiff = 0;
      for (let r = 0; r < b.rows; r++) {
        for (let j = 0; j < b.cols; j++) {
          let s = 0;
          for (let c = 0; c < b.cols; c++) s += b.alpha * w[r * b.cols + c] * H[j * b.cols + c];
          maxDiff = Math.max(maxDiff, Math.abs(s - got[r * b.cols + j]));
        }
      }
      expect(maxDiff).toBeLessThan(1e-12);
    }
  });

  it('without activation quantization the retrofit gives the plain model (HᵀH = I): reference and ORT', async () => {
    const plain = new ReferenceModel(model.weights, { scheme: 'fp', kvBits: 16 });
    const retro = new ReferenceModel(model.weights, { scheme: 'fp', kvBits: 16, experiment: EXP });
    const a = plain.forward(PROMPT);
    const b = retro.forward(PROMPT);
    let refDiff = 0;
    for (let i = 0; i < a.length; i++) refDiff = Math.max(refDiff, Math.abs(a[i] - b[i]));
    expect(refDiff).toBeLessThan(1e-9);
    const ortPlain = await createEngine(model.dir, { scheme: 'fp', kvBits: 16, device: 'cpu', taps: false }, { cpuBackend: 'ort' });
    const ortRetro = await createEngine(model.dir, { scheme: 'fp', kvBits: 16, device: 'cpu', taps: false, experiment: EXP });
    const x = (await ortPlain.forward(PROMPT, true)).logits;
    const y = (await ortRetro.forward(PROMPT, true)).logits;
    await Promise.all([ortPlain.close(), ortRetro.close()]);
    let ortDiff = 0;
    for (let i = 0; i < x.length; i++) ortDiff = Math.max(ortDiff, Math.abs(x[i] - y[i]));
    expect(ortDiff).toBeLessThan(STRICT);
  });

  for (const [scheme, kvBits] of [['v2-a4', 16], ['v2-a4', 4], ['b1.58', 8]] as const) {
    it(`ORT = float64 reference: scheme ${scheme}, KV ${kvBits}, taps and 16 greedy tokens`, async () => {
      const engine = await createEngine(model.dir, { scheme, kvBits, device: 'cpu', taps: true, experiment: EXP });
      expect(engine.info.run.experiment).toBe(EXP);
      expect(engine.info.experimentNote).toMatch(/^EXPERIMENT v2-retrofit-w16a4: .*full-precision rotated weights/);
      const ref = new ReferenceModel(model.weights, { scheme, kvBits, experiment: EXP });
      let ids = PROMPT;
      let maxLogit = 0;
      let maxTap = 0;
      const ortTokens: number[] = [];
      const refTokens: number[] = [];
      for (let s = 0; s < 16; s++) {
        const out = await engine.forward(ids, s === 0);
        const want = ref.forward(ids);
        for (let i = 0; i < want.length; i++) maxLogit = Math.max(maxLogit, Math.abs(want[i] - out.logits[i]));
        maxTap = Math.max(maxTap, maxTapDiff(out.taps!.layers, ref.lastTaps));
        ortTokens.push(argmax(out.logits));
        refTokens.push(argmax(want));
        ids = [refTokens[s]];
      }
      await engine.close();
      expect(ortTokens).toEqual(refTokens);
      expect(maxLogit).toBeLessThan(FLIP);
      expect(maxTap).toBeLessThan(FLIP);
      if (maxLogit >= STRICT) console.warn(`v2 retrofit ${scheme} KV ${kvBits}: a float32 rounding-boundary flip, max logit diff ${maxLogit}`);
    });
  }

  it('refuses an unknown experiment, naming it', async () => {
    await expect(createEngine(model.dir, { scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false, experiment: 'v3' as never })).rejects.toThrow(/unknown experiment "v3" \(expected one of v2-retrofit-w16a4\)/);
  });
});
