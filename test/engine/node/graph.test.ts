// The graph compiler's pieces on real ORT CPU sessions: outputs with and without taps, the
// quantizer ops against engine/common/quant.ts, the Kronecker Hadamard against the dense matrix,
// and 2-bit MatMulNBits on the packed layout as stored.
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { denseHadamard } from '../../../engine/common/hadamard.js';
import { quantInt4Absmean, quantInt8Absmax, quantInt8Top50 } from '../../../engine/common/quant.js';
import { randomModelWeights, Rng } from '../../../engine/common/random-model.js';
import { packTernary } from '../../../engine/common/ternary.js';
import { compileGraph } from '../../../engine/node/graph/compile.js';
import { DT, GraphBuilder } from '../../../engine/node/graph/onnx-builder.js';
import { hadamardOp, packedMatMul, quantizeOp } from '../../../engine/node/graph/ops.js';
import { testConfig } from './helpers.js';

const { onnx } = onnxProto;

async function runOne(build: (g: GraphBuilder, x: string) => string[], x: Float32Array, dims: number[], target: 'cpu' | 'gpu' = 'cpu'): Promise<Float32Array[]> {
  const g = new GraphBuilder(target);
  const input = g.input('x', DT.FLOAT, dims);
  build(g, input).forEach((v, i) => g.output(v, `y${i}`, DT.FLOAT, dims.map((_, j) => `d${i}_${j}`)));
  const s = await ort.InferenceSession.create(g.toBytes('t'));
  const out = await s.run({ x: new ort.Tensor('float32', x, dims) });
  const res = s.outputNames.map((n) => out[n].data as Float32Array);
  await s.release();
  return res;
}

describe('graph compiler', () => {
  it('has tap outputs only when taps are on (pre-Hadamard ones only for v2 schemes)', async () => {
    const w = randomModelWeights(testConfig(), 1);
    const names = async (scheme: 'b1.58' | 'v2-a8', taps: boolean) => {
      const s = await ort.InferenceSession.create(compileGraph(w, { scheme, kvBits: 4, taps }).model);
      const out = [...s.outputNames];
      await s.release();
      return out;
    };
    const off = await names('v2-a8', false);
    expect(off.sort()).toEqual(
      ['logits', ...[0, 1].flatMap((i) => ['key', 'key_scale', 'value', 'value_scale'].map((p) => `present.${i}.${p}`))].sort(),
    );
    const on = await names('v2-a8', true);
    expect(on.filter((n) => n.startsWith('tap.')).sort()).toEqual(
      [0, 1].flatMap((i) => ['down', 'downPreHadamard', 'gateup', 'o', 'oPreHadamard', 'qkv'].map((f) => `tap.${i}.${f}`)).sort(),
    );
    expect((await names('b1.58', true)).filter((n) => n.includes('PreHadamard'))).toEqual([]);
  });

  it('GPU graphs use the fused kernels (one GroupQueryAttention per layer) where the head size allows', async () => {
    const ops = (headDim: number, target: 'cpu' | 'gpu') => {
      const w = randomModelWeights(testConfig({ hiddenSize: 4 * headDim, headDim }), 3);
      const m = onnx.ModelProto.decode(compileGraph(w, { scheme: 'b1.58', kvBits: 16, taps: false, target }).model);
      const count = new Map<string, number>();
      for (const n of m.graph!.node!) count.set(n.opType!, (count.get(n.opType!) ?? 0) + 1);
      return { count, total: m.graph!.node!.length };
    };
    const gpu = ops(16, 'gpu');
    expect(gpu.count.get('GroupQueryAttention')).toBe(2);
    expect(gpu.count.get('Softmax')).toBeUndefined();
    expect(gpu.count.get('SkipSimplifiedLayerNormalization')).toBe(4); // after layer 0's norm: 2 per layer
    const cpu = ops(16, 'cpu');
    expect(cpu.count.get('GroupQueryAttention')).toBeUndefined();
    expect(gpu.total).toBeLessThan(cpu.total * 0.6);
    expect(ops(12, 'gpu').count.get('GroupQueryAttention')).toBeUndefined(); // head size 12: plain attention
  });

  it('a chunked LM head (GPU graphs) gives the same logits as one matrix', async () => {
    const w = randomModelWeights(testConfig(), 2);
    const logits = async (lmHeadChunkRows?: number) => {
      const graph = compileGraph(w, { scheme: 'b1.58', kvBits: 16, taps: false, target: 'gpu', lmHeadChunkRows });
      const s = await ort.InferenceSession.create(graph.model);
      const feeds: Record<string, ort.Tensor> = { [graph.inputsEmbeds]: new ort.Tensor('float32', w.embed.slice(0, 3 * 32), [1, 3, 32]) };
      for (const k of graph.kv) feeds[k.past] = new ort.Tensor('float32', new Float32Array(2 * k.lastDim), [1, 2, 1, k.lastDim]);
      const out = (await s.run(feeds)).logits.data as Float32Array;
      await s.release();
      return out;
    };
    const whole = await logits();
    expect(whole.length).toBe(260);
    expect(Array.from(await logits(100))).toEqual(Array.from(whole));
  });

  it.each(['cpu', 'gpu'] as const)('quantizer ops (%s graphs) give the codes and scales of engine/common/quant.ts', async (target) => {
    const rng = new Rng(5);
    const T = 6;
    const n = 40;
    const x = new Float32Array(T * n).map(() => rng.normal() * (rng.next() < 0.05 ? 20 : 1));
    x.fill(0, 0, n); // an all-zero row
    x.fill(0.75, n, n + 24); // ties in |x| for the top-50% mask
    x.fill(-0.75, n + 24, 2 * n);
    const cases = [
      ['int8', quantInt8Absmax],
      ['int4', quantInt4Absmean],
      ['int8-top50', quantInt8Top50],
    ] as const;
    for (const [kind, ref] of cases) {
      const [codes, scale] = await runOne((g, v) => {
        const q = quantizeOp(g, kind, v, n);
        return [q.x, q.scale!];
      }, x, [1, T, n], target);
      for (let t = 0; t < T; t++) {
        const want = ref(x.subarray(t * n, (t + 1) * n));
        expect(Array.from(codes.subarray(t * n, (t + 1) * n), (v) => v + 0), `${kind} row ${t}`).toEqual(Array.from(want.q)); // + 0: -0 is 0
        expect(scale[t]).toBeCloseTo(want.scale, 6);
      }
    }
  });

  it.each([12, 16, 40, 48, 80, 256, 640])('Hadamard of width %i equals the dense orthonormal matrix', async (n) => {
    const rng = new Rng(n);
    const T = 3;
    const x = new Float32Array(T * n).map(() => rng.normal());
    const [y] = await runOne((g, v) => [hadamardOp(g, v, n)], x, [1, T, n]);
    const H = denseHadamard(n);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += H[r * n + c] * x[t * n + c];
        expect(Math.abs(y[t * n + r] - s)).toBeLessThan(1e-5);
      }
    }
  });

  it.each([
    [7, 64, 'fp32'],
    [5, 48, 'fp32'],
    [3, 36, 'fp32'],
    [7, 64, 'int8-exact'],
    [5, 300, 'int8-exact'],
    [3, 36, 'int8-exact'],
  ] as const)('2-bit MatMulNBits on packed [%i, %i] weights is exact (%s, incl. padded blocks)', async (rows, cols, mode) => {
    const rng = new Rng(rows * cols);
    const w = Int8Array.from({ length: rows * cols }, () => (rng.nextU32() % 3) - 1);
    // Integer codes as the quantizers produce them (|q| <= 127), a few rows at the extremes.
    const x = Float32Array.from({ length: 3 * cols }, (_, i) => (i < cols ? 127 * Math.sign(rng.next() - 0.5) : (rng.nextU32() % 255) - 127));
    const weights = [{ packed: packTernary(w, rows, cols), rows, cols, alpha: 1 }];
    const [y] = await runOne((g, v) => [packedMatMul(g, 'w', { x: v, scale: g.constF(1) }, weights, mode)], x, [1, 3, cols]);
    for (let t = 0; t < 3; t++) {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += x[t * cols + c] * w[r * cols + c];
        expect(y[t * rows + r]).toBe(s);
      }
    }
  });

  it('int8 matmul without the sentinel layout is not exact (why int8-exact exists)', async () => {
    const rows = 16;
    const cols = 256;
    const rng = new Rng(3);
    const w = Int8Array.from({ length: rows * cols }, () => (rng.nextU32() % 3) - 1);
    const x = Float32Array.from({ length: cols }, () => (rng.nextU32() % 15) - 7); // INT4-like codes
    const weights = [{ packed: packTernary(w, rows, cols), rows, cols, alpha: 1 }];
    const [y] = await runOne((g, v) => [packedMatMul(g, 'w', { x: v, scale: g.constF(1) }, weights, 'int8-approx')], x, [1, 1, cols]);
    let wrong = 0;
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += x[c] * w[r * cols + c];
      if (y[r] !== s) wrong++;
    }
    expect(wrong).toBeGreaterThan(0);
  });
});
