// The decode-step graph: one ONNX model that takes any number of new tokens plus the KV cache of the
// tokens before them, and returns the logits, the new KV cache and (optionally) the quantizer inputs
// of the last token. Prefill and decode run the same graph. Arithmetic: docs/model-format.md.
import type { Experiment, KvBits, Site } from '../../common/api.js';
import { schemeUsesHadamard, siteQuantizer, type Scheme, type SiteQuantizer } from '../../common/scheme.js';
import type { ModelWeights } from '../../common/weights.js';
import { GraphBuilder, DT, type SerializedModel, type Target } from './onnx-builder.js';
import { hadamardOp, packedMatMul, quantizeOp, rmsNorm, rotatedMatMul, roundHalfEven, type MatMulMode, type Quantized } from './ops.js';

export interface CompileOptions {
  scheme: Scheme;
  kvBits: KvBits;
  taps: boolean;
  /** Logits of the last new token only (default) or of every new token. */
  logits?: 'last' | 'all';
  /**
   * 'gpu': graph variants for GPU backends (rounding without ONNX Round, KV cache dequantized on
   * write, see storeCodes; fused contrib ops, see `fused` below). Default 'cpu'.
   */
  target?: Target;
  /** Rows per LM head chunk (default: 64 MiB of float32 on GPU targets, everything on the CPU). */
  lmHeadChunkRows?: number;
  /** How the ternary matmuls run (ops.ts MatMulMode); default 'fp32'. */
  matmul?: MatMulMode;
  /** engine/common/experiment.ts: 'v2-retrofit-w16a4' rotates W_o / W_down (ops.ts rotatedMatMul). */
  experiment?: Experiment;
  /**
   * Large initializers as ONNX external data: 'auto' (default) when the initializers exceed
   * EXTERNAL_DATA_THRESHOLD bytes, true always (tests), false never.
   */
  externalData?: 'auto' | boolean;
}

/**
 * Protobuf caps a serialized model at 2 GB; above 1.5 GB of initializers (the rest of the graph is a
 * few MB) they go to external data. 2B-4T: ~1 GB normally, ~3.9 GB under the v2 retrofit experiment.
 */
export const EXTERNAL_DATA_THRESHOLD = 1.5 * 2 ** 30;

/** File name of the external data, next to the model file (external-model.ts writes both). */
export const EXTERNAL_DATA_FILE = 'weights.bin';

/** One KV cache tensor per layer: codes/values, and for quantized caches a scale per token and head. */
export interface KvTensorSpec {
  past: string;
  present: string;
  /** uint8 codes hold q + 128. */
  type: 'float32' | 'uint8';
  /** Last dimension: head_dim, or 1 for scales. */
  lastDim: number;
}

/**
 * Where an empty cache starts: 'dummy' = one masked slot of zeros (slot j holds position j - 1; CPU
 * graphs), 'empty' = zero slots (GPU graphs, whose GroupQueryAttention has no mask input).
 */
export type KvStart = 'dummy' | 'empty';

export interface TapSpec {
  layer: number;
  /** A Site, or the pre-Hadamard vector of 'o' / 'down'. */
  field: Site | 'oPreHadamard' | 'downPreHadamard';
  name: string;
}

export interface CompiledGraph {
  /** The ModelProto; with `external`, it must be loaded from a file next to the external data. */
  model: Uint8Array;
  external?: SerializedModel['external'];
  /** [1, T, hidden] float32: the embedding rows of the new tokens (looked up in JavaScript, embedding.ts). */
  inputsEmbeds: string;
  logits: string;
  kv: KvTensorSpec[];
  kvStart: KvStart;
  taps: TapSpec[];
  numKvHeads: number;
  headDim: number;
}

const BOS_KV_BITS = 8;

export function compileGraph(w: ModelWeights, opts: CompileOptions): CompiledGraph {
  const c = w.config;
  const g = new GraphBuilder(opts.target ?? 'cpu');
  const { numHeads: H, numKvHeads: KVH, headDim: D, hiddenSize: d } = c;
  const kvQuantized = opts.kvBits !== 16;
  // CPU: the cache holds uint8 codes (q + 128) and a float32 scale per token and head, dequantized
  // on read. GPU backends: onnxruntime-node cannot hand out int8 GPU buffers and WebGPU has no uint8
  // Concat, so the cache holds the dequantized values (code * scale, float32): same arithmetic,
  // no memory saving there.
  const storeCodes = kvQuantized && g.target === 'cpu';
  const acc = opts.matmul ?? 'fp32';
  // GPU graphs use ORT's fused contrib kernels (each node is a dispatch, ~10-20 us of host time on
  // WebGPU, while the whole step's weight traffic is ~0.6 ms on an H100): GroupQueryAttention (RoPE,
  // KV append, causal softmax attention, GQA head sharing in one node), RotaryEmbedding, and
  // SkipSimplifiedLayerNormalization (residual add + RMSNorm). The CPU graph keeps the plain ops
  // that are tested bit for bit against the reference. GroupQueryAttention needs a head size that
  // is a multiple of 16 (ORT's CPU kernel with RoPE; WebGPU: 8); other shapes keep the plain ops.
  const fused = g.target === 'gpu';
  const fusedAttn = fused && D % 16 === 0;

  // The embedding lookup happens outside the graph (embedding.ts): the table is the largest tensor
  // (2B-4T: 1.3 GB as float32) and WebGPU limits the size of one buffer binding.
  const embeds = g.input('inputs_embeds', DT.FLOAT, [1, 'T', c.hiddenSize]);
  const kv: KvTensorSpec[] = [];
  const pastInputs: string[][] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const names: string[] = [];
    for (const part of ['key', 'value']) {
      const specs: KvTensorSpec[] = storeCodes
        ? [
            { past: `past.${i}.${part}`, present: `present.${i}.${part}`, type: 'uint8', lastDim: D },
            { past: `past.${i}.${part}_scale`, present: `present.${i}.${part}_scale`, type: 'float32', lastDim: 1 },
          ]
        : [{ past: `past.${i}.${part}`, present: `present.${i}.${part}`, type: 'float32', lastDim: D }];
      for (const s of specs) {
        g.input(s.past, s.type === 'float32' ? DT.FLOAT : DT.UINT8, [1, KVH, 'P', s.lastDim]);
        names.push(s.past);
        kv.push(s);
      }
    }
    pastInputs.push(names);
  }

  // The cache starts with one dummy slot (zeros, always masked) so that no input is ever zero-sized;
  // cache slot j holds position j - 1. With GroupQueryAttention (GPU graphs): no dummy slot, it takes
  // an empty past (checked on WebGPU) and masks by position itself.
  // Positions of the new tokens: past length + 0..T-1 (past length from the cache's shape).
  const pastShape = g.node('Shape', [pastInputs[0][0]], { start: 2, end: 3 });
  const pastLen = fusedAttn ? pastShape : g.node('Sub', [pastShape, g.constI([1])]);
  const newLen = g.node('Shape', [embeds], { start: 1, end: 2 });
  const totalLen = g.node('Add', [pastLen, newLen]);
  const scalar = (x: string) => g.node('Squeeze', [x, g.constI([0])]);
  // (GPU graphs with a 16-bit cache need no positions: GroupQueryAttention derives them.)
  const pos = !fusedAttn || kvQuantized ? g.node('Range', [scalar(pastLen), scalar(totalLen), g.constI(1)]) : ''; // [T]

  // Causal mask [T, S]: query at position p sees the slots of positions 0..p (not the dummy).
  const causalMask = () => {
    const slotPos = g.node('Unsqueeze', [g.node('Range', [g.constI(-1), scalar(totalLen), g.constI(1)]), g.constI([0])]); // [1, S]
    const allowed = g.node('And', [g.node('LessOrEqual', [slotPos, g.node('Unsqueeze', [pos, g.constI([1])])]), g.node('GreaterOrEqual', [slotPos, g.constI(0)])]);
    return g.node('Where', [allowed, g.constF(0), g.constF(-1e30)]);
  };
  const mask = fusedAttn ? '' : causalMask();
  // GroupQueryAttention's sequence inputs: seqlens_k = total length - 1 ([1], int32) and the total
  // length (int32 scalar).
  const seqlensK = fusedAttn ? g.node('Cast', [g.node('Sub', [totalLen, g.constI([1])])], { to: DT.INT32 }) : '';
  const totalSeq = fusedAttn ? g.node('Cast', [scalar(totalLen)], { to: DT.INT32 }) : '';

  // RoPE tables computed in float64 here: cos/sin [maxPos, D/2], gathered at the positions.
  const half = D / 2;
  const maxPos = c.maxPositionEmbeddings;
  const cosT = new Float32Array(maxPos * half);
  const sinT = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    for (let j = 0; j < half; j++) {
      const a = p * Math.pow(c.ropeTheta, (-2 * j) / D);
      cosT[p * half + j] = Math.cos(a);
      sinT[p * half + j] = Math.sin(a);
    }
  }
  const ropeTable = (name: string, t: Float32Array) => {
    const gathered = g.node('Gather', [g.f32(name, [maxPos, half], t), pos]); // [T, half]
    return g.node('Unsqueeze', [g.node('Concat', [gathered, gathered], { axis: -1 }), g.constI([0, 1])]); // [1,1,T,D]
  };
  // GPU graphs: the [maxPos, D/2] tables themselves, for GroupQueryAttention / RotaryEmbedding.
  const cos = fusedAttn ? g.f32('rope.cos', [maxPos, half], cosT) : ropeTable('rope.cos', cosT);
  const sin = fusedAttn ? g.f32('rope.sin', [maxPos, half], sinT) : ropeTable('rope.sin', sinT);
  const rope = (x: string) => {
    const [x1, x2] = g.nodeN('Split', [x, g.constI([half, half])], 2, { axis: -1 });
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], { axis: -1 });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  };

  let h = embeds;

  const taps: TapSpec[] = [];
  const tapLast = (layer: number, field: TapSpec['field'], x: string, width: number) => {
    if (!opts.taps) return;
    const name = `tap.${layer}.${field}`;
    const last = g.node('Slice', [x, g.constI([-1]), g.constI([2 ** 62]), g.constI([1])]);
    g.output(g.node('Reshape', [last, g.constI([width])]), name, DT.FLOAT, [width]);
    taps.push({ layer, field, name });
  };
  const retrofit = opts.experiment === 'v2-retrofit-w16a4';
  const useHadamard = schemeUsesHadamard(opts.scheme) || retrofit;
  const quant = (site: Site, x: string, width: number): Quantized => quantizeOp(g, siteQuantizer(opts.scheme, site) as SiteQuantizer, x, width);

  // Residual stream: h += branch output. GPU graphs keep the add pending and do it in the next
  // norm's SkipSimplifiedLayerNormalization (sum and normalized sum from one kernel).
  let pending: string | undefined;
  const residual = (y: string) => {
    if (fused) pending = y;
    else h = g.node('Add', [h, y]);
  };
  const addNorm = (weight: string): string => {
    if (!pending) return rmsNorm(g, h, weight, c.rmsNormEps);
    const outs = [g.fresh('normed'), '', '', g.fresh('h')];
    g.node('SkipSimplifiedLayerNormalization', [h, pending, weight], { epsilon: { float: c.rmsNormEps } }, outs, 'com.microsoft');
    pending = undefined;
    h = outs[3];
    return outs[0];
  };

  for (let i = 0; i < c.numLayers; i++) {
    const L = w.layers[i];
    const p = `l${i}`;

    // Attention.
    const x = addNorm(g.f32(`${p}.input_norm`, [d], L.inputNorm));
    tapLast(i, 'qkv', x, d);
    const qkv = packedMatMul(g, `${p}.qkv`, quant('qkv', x, d), [L.q, L.k, L.v], acc);
    // CPU graphs: plain ops (Split, RoPE, KV concat, GQA head expansion, masked softmax attention).
    const cpuAttention = (): string => {
      const [q0, k0, v0] = g.nodeN('Split', [qkv, g.constI([H * D, KVH * D, KVH * D])], 3, { axis: -1 });
      const heads = (t: string, n: number) => g.node('Transpose', [g.node('Reshape', [t, g.constI([1, -1, n, D])])], { perm: [0, 2, 1, 3] });
      const q = rope(heads(q0, H));
      const k = rope(heads(k0, KVH));
      const v = heads(v0, KVH);

      const [kFull, vFull] = ['key', 'value'].map((part, j) => {
        let fresh = j === 0 ? k : v;
        if (!storeCodes) {
          if (kvQuantized) {
            const { codes, scale } = kvQuantize(g, fresh, pos, opts.kvBits);
            fresh = g.node('Mul', [codes, scale]); // dequantize on write
          }
          const present = g.node('Concat', [pastInputs[i][j], fresh], { axis: 2 });
          g.output(present, `present.${i}.${part}`, DT.FLOAT, [1, KVH, 'S', D]);
          return present;
        }
        const { codes, scale } = kvQuantize(g, fresh, pos, opts.kvBits);
        // Stored as q + 128 in uint8 (onnxruntime-node has no int8 GPU buffers; one layout everywhere).
        const presentCodes = g.node('Concat', [pastInputs[i][2 * j], g.node('Cast', [g.node('Add', [codes, g.constF(128)])], { to: DT.UINT8 })], { axis: 2 });
        const presentScale = g.node('Concat', [pastInputs[i][2 * j + 1], scale], { axis: 2 });
        g.output(presentCodes, `present.${i}.${part}`, DT.UINT8, [1, KVH, 'S', D]);
        g.output(presentScale, `present.${i}.${part}_scale`, DT.FLOAT, [1, KVH, 'S', 1]);
        // Dequantize on read: attention runs in float32 on code * scale.
        return g.node('Mul', [g.node('Sub', [g.node('Cast', [presentCodes], { to: DT.FLOAT }), g.constF(128)]), presentScale]);
      });
      const expandKv = (t: string) => {
        const rep = H / KVH;
        if (rep === 1) return t;
        // [1, KVH, S, D] -> [1, KVH, rep, S, D] -> [1, H, S, D]: query head h reads KV head h / rep.
        const t5 = g.node('Unsqueeze', [t, g.constI([2])]);
        const shape = g.node('Concat', [g.constI([1, KVH, rep]), g.node('Shape', [t], { start: 2 })], { axis: 0 });
        return g.node('Reshape', [g.node('Expand', [t5, shape]), g.constI([1, H, -1, D])]);
      };
      const scores = g.node('Div', [g.node('MatMul', [q, g.node('Transpose', [expandKv(kFull)], { perm: [0, 1, 3, 2] })]), g.constF(Math.sqrt(D))]);
      const probs = g.node('Softmax', [g.node('Add', [scores, mask])], { axis: -1 });
      return g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, expandKv(vFull)])], { perm: [0, 2, 1, 3] }), g.constI([1, -1, H * D])]);
    };
    const attn = fusedAttn ? gpuAttention(g, i, qkv, pastInputs[i], { H, KVH, D, kvBits: opts.kvBits, pos, seqlensK, totalSeq, cos, sin }) : cpuAttention();
    let a = rmsNorm(g, attn, g.f32(`${p}.attn_sub_norm`, [H * D], L.attnSubNorm), c.rmsNormEps);
    if (useHadamard) {
      tapLast(i, 'oPreHadamard', a, H * D);
      a = hadamardOp(g, a, H * D);
    }
    tapLast(i, 'o', a, H * D);
    const aq = quant('o', a, H * D);
    residual(retrofit ? rotatedMatMul(g, `${p}.o`, aq, L.o) : packedMatMul(g, `${p}.o`, aq, [L.o], acc));

    // Feed-forward.
    const x2 = addNorm(g.f32(`${p}.post_attn_norm`, [d], L.postAttnNorm));
    tapLast(i, 'gateup', x2, d);
    const F = c.intermediateSize;
    const [gate, up] = g.nodeN('Split', [packedMatMul(g, `${p}.gateup`, quant('gateup', x2, d), [L.gate, L.up], acc), g.constI([F, F])], 2, { axis: -1 });
    const act =
      c.activation === 'swiglu'
        ? g.node('Mul', [gate, g.node('Sigmoid', [gate])])
        : (() => {
            const r = g.node('Relu', [gate]);
            return g.node('Mul', [r, r]);
          })();
    let m = rmsNorm(g, g.node('Mul', [act, up]), g.f32(`${p}.ffn_sub_norm`, [F], L.ffnSubNorm), c.rmsNormEps);
    if (useHadamard) {
      tapLast(i, 'downPreHadamard', m, F);
      m = hadamardOp(g, m, F);
    }
    tapLast(i, 'down', m, F);
    const mq = quant('down', m, F);
    residual(retrofit ? rotatedMatMul(g, `${p}.down`, mq, L.down) : packedMatMul(g, `${p}.down`, mq, [L.down], acc));
  }

  let hn = addNorm(g.f32('final_norm', [d], w.norm));
  if (opts.logits !== 'all') hn = g.node('Slice', [hn, g.constI([-1]), g.constI([2 ** 62]), g.constI([1])]);
  // LM head in row chunks of at most 64 MiB as float32 on GPU backends (WebGPU guarantees only
  // 128 MiB per storage binding), one matrix on the CPU.
  const key = c.tieWordEmbeddings ? 'embed' : 'lmHead';
  const chunkRows = opts.lmHeadChunkRows ?? (g.target === 'gpu' ? Math.max(1, Math.floor(2 ** 26 / (4 * d))) : c.vocabSize);
  const hn2 = g.node('Reshape', [hn, g.constI([-1, d])]);
  const parts: string[] = [];
  for (let r0 = 0; r0 < c.vocabSize; r0 += chunkRows) {
    const rows = Math.min(chunkRows, c.vocabSize - r0);
    parts.push(g.node('Gemm', [hn2, matrixInitializer(g, `lm_head.${r0}`, w, key, r0, rows, d)], { transB: 1 }));
  }
  const logits = parts.length === 1 ? parts[0] : g.node('Concat', parts, { axis: 1 });
  g.output(logits, 'logits', DT.FLOAT, [opts.logits === 'all' ? 'T' : 1, c.vocabSize]);

  const external = opts.externalData === true || (opts.externalData !== false && g.initializerBytes > EXTERNAL_DATA_THRESHOLD);
  const serialized: SerializedModel = external ? g.toExternal('bitlens_decode_step', EXTERNAL_DATA_FILE) : { model: g.toBytes('bitlens_decode_step') };
  return { model: serialized.model, external: serialized.external, inputsEmbeds: embeds, logits: 'logits', kv, kvStart: fusedAttn ? 'empty' : 'dummy', taps, numKvHeads: KVH, headDim: D };
}

interface GpuAttentionArgs {
  H: number;
  KVH: number;
  D: number;
  kvBits: KvBits;
  /** Positions of the new tokens [T] (int64). */
  pos: string;
  seqlensK: string;
  totalSeq: string;
  /** RoPE tables [maxPos, D/2]. */
  cos: string;
  sin: string;
}

/**
 * Attention of layer `i` on GPU graphs, from the packed q|k|v projection [1, T, (H + 2 KVH) D] to
 * [1, T, H D], writing the outputs present.i.key / present.i.value ([1, KVH, S, D], float32).
 * 16-bit KV: one com.microsoft GroupQueryAttention with RoPE inside (do_rotary). Quantized KV:
 * RotaryEmbedding on q and k, the keys and values quantized per token and head and dequantized
 * (the cache holds code * scale, see storeCodes), then GroupQueryAttention on them.
 */
function gpuAttention(g: GraphBuilder, i: number, qkv: string, past: string[], a: GpuAttentionArgs): string {
  const { H, KVH, D } = a;
  const present = [`present.${i}.key`, `present.${i}.value`];
  const attrs = { num_heads: H, kv_num_heads: KVH };
  let inputs: string[];
  let rotary: Record<string, number> = {};
  if (a.kvBits === 16) {
    inputs = [qkv, '', '', past[0], past[1], a.seqlensK, a.totalSeq, a.cos, a.sin];
    rotary = { do_rotary: 1, rotary_interleaved: 0 };
  } else {
    const [q0, k0, v0] = g.nodeN('Split', [qkv, g.constI([H * D, KVH * D, KVH * D])], 3, { axis: -1 });
    const posIds = g.node('Unsqueeze', [a.pos, g.constI([0])]); // [1, T]
    const rope = (x: string, n: number) => g.node('RotaryEmbedding', [x, posIds, a.cos, a.sin], { interleaved: 0, num_heads: n }, undefined, 'com.microsoft');
    // Per token and KV head: [1, T, KVH * D] -> [1, T, KVH, D], quantize over D, back.
    const kvStore = (x: string) => {
      const { codes, scale } = kvQuantize(g, g.node('Reshape', [x, g.constI([1, -1, KVH, D])]), a.pos, a.kvBits, [1, -1, 1, 1]);
      return g.node('Reshape', [g.node('Mul', [codes, scale]), g.constI([1, -1, KVH * D])]);
    };
    inputs = [rope(q0, H), kvStore(rope(k0, KVH)), kvStore(v0), past[0], past[1], a.seqlensK, a.totalSeq];
  }
  const out = g.fresh('attn');
  g.node('GroupQueryAttention', inputs, { ...attrs, ...rotary }, [out, ...present], 'com.microsoft');
  for (const name of present) g.output(name, name, DT.FLOAT, [1, KVH, 'S', D]);
  return out;
}

/**
 * Rows [r0, r0 + rows) of a [vocab, cols] matrix: F16 bits plus a Cast (folded once by ORT at
 * session creation), or float32 as is.
 */
function matrixInitializer(g: GraphBuilder, name: string, w: ModelWeights, key: 'embed' | 'lmHead', r0: number, rows: number, cols: number): string {
  // Only touch w[key] when there are no F16 bits: reading it converts the whole matrix to float32.
  const f16 = key === 'embed' ? w.embedF16 : w.lmHeadF16;
  if (f16) return g.node('Cast', [g.initializer(`${name}.f16`, DT.FLOAT16, [rows, cols], f16.subarray(r0 * cols, (r0 + rows) * cols))], { to: DT.FLOAT });
  return g.initializer(name, DT.FLOAT, [rows, cols], w[key]!.subarray(r0 * cols, (r0 + rows) * cols));
}

/**
 * KV quantization of the new tokens [1, KVH, T, D] (or [1, T, KVH, D] with bosShape [1, -1, 1, 1]):
 * per token and head, symmetric absmax with Q = 2^(bits-1) - 1; the token at position 0 (BOS) uses
 * 8 bits. Codes as float integers.
 */
function kvQuantize(g: GraphBuilder, x: string, pos: string, bits: number, bosShape = [1, 1, -1, 1]): { codes: string; scale: string } {
  const Q = 2 ** (bits - 1) - 1;
  const QB = 2 ** (BOS_KV_BITS - 1) - 1;
  const isBos = g.node('Reshape', [g.node('Equal', [pos, g.constI(0)]), g.constI(bosShape)]);
  const qmax = g.node('Where', [isBos, g.constF(QB), g.constF(Q)]);
  const qmin = g.node('Where', [isBos, g.constF(-QB - 1), g.constF(-Q - 1)]);
  const absMax = g.node('ReduceMax', [g.node('Abs', [x])], { axes: [-1], keepdims: 1 });
  const r = roundHalfEven(g, g.node('Div', [g.node('Mul', [x, qmax]), g.node('Add', [absMax, g.constF(1e-5)])]));
  return { codes: g.node('Min', [g.node('Max', [r, qmin]), qmax]), scale: g.node('Div', [absMax, qmax]) };
}

