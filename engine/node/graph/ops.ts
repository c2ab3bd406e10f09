// Graph fragments of the BitNet arithmetic (docs/model-format.md): RMSNorm, the per-token activation
// quantizers, the packed ternary matmul (com.microsoft MatMulNBits, bits=2) and the Kronecker-factored
// Hadamard transform.
import { denseHadamard, hadamardPlan, hadamardTransform } from '../../common/hadamard.js';
import { QUANT_EPS } from '../../common/quant.js';
import type { SiteQuantizer } from '../../common/scheme.js';
import { unpackTernary } from '../../common/ternary.js';
import type { BitLinearWeights } from '../../common/weights.js';
import { DT, type GraphBuilder } from './onnx-builder.js';

/**
 * RMSNorm(x) * weight over the last axis, as ORT's fused SimplifiedLayerNormalization (one kernel
 * instead of six elementwise ops: each op is a dispatch on GPU backends).
 */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  return g.node('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: eps }, stash_type: 1 });
}

/**
 * Round half to even. ONNX Round is exactly that, but GPU backends lack a kernel for it (ORT would
 * run it on the CPU, two copies per quantizer). There: (x + 1.5 * 2^23) - 1.5 * 2^23, two separate
 * float32 kernels; the sum lies in [2^23, 2^24) where the float32 spacing is 1, so IEEE
 * round-to-nearest-even of the addition is the rounding (exact for |x| < 2^22; quantizer inputs are
 * at most 127, or sqrt(7) * width before INT4 clipping).
 */
export function roundHalfEven(g: GraphBuilder, x: string): string {
  if (g.target === 'cpu') return g.node('Round', [x]);
  const magic = g.constF(1.5 * 2 ** 23);
  return g.node('Sub', [g.node('Add', [x, magic]), magic]);
}

/** A linear input after its site quantizer: integer-valued codes and the per-token scale [1, T, 1]. */
export interface Quantized {
  x: string;
  /** Absent for full precision ('none'). On GPU graphs a node made on first read. */
  scale?: string;
  /**
   * GPU graphs: scale = s / Q as its parts, so that packedMatMul folds 1/Q into alpha (one
   * dispatch fewer per projection; the product rounds differently by an ulp or so).
   */
  absScale?: { s: string; Q: number };
}

/**
 * Per-token quantizer in the spec's order of operations: q = RoundClip(Q x / (s + eps), lo, hi),
 * scale = s / Q, with s = max|x| (INT8) or mean|x| (INT4). ONNX Round is half-to-even.
 */
export function quantizeOp(g: GraphBuilder, kind: SiteQuantizer, x: string, width: number): Quantized {
  if (kind === 'none') return { x };
  const abs = g.node('Abs', [x]);
  const int8 = kind !== 'int4';
  const s = g.node(int8 ? 'ReduceMax' : 'ReduceMean', [abs], { axes: [-1], keepdims: 1 });
  const Q = int8 ? 127 : Math.sqrt(7);
  const [lo, hi] = int8 ? [-128, 127] : [-8, 7];
  const r = roundHalfEven(g, g.node('Div', [g.node('Mul', [x, g.constF(Q)]), g.node('Add', [s, g.constF(QUANT_EPS)])]));
  // With s = max|x| the clip never binds: |x| <= s < s + eps, and float32 rounding of Q|x| and of the
  // division moves the quotient by a few ulps of 127 at most, so it rounds to within [-127, 127].
  // GPU graphs skip that dispatch; the CPU graph keeps the spec's RoundClip as written.
  let q = int8 && g.target === 'gpu' ? r : g.node('Clip', [r, g.constF(lo), g.constF(hi)]);
  if (kind === 'int8-top50') {
    // a4.8 W_o input: keep the width/2 channels of largest |x| per token (TopK prefers lower indices on ties).
    const [, idx] = g.nodeN('TopK', [abs, g.constI([Math.floor(width / 2)])], 2, { axis: -1, largest: 1, sorted: 1 });
    const zeros = g.node('ConstantOfShape', [g.node('Shape', [x])]);
    const ones = g.node('Add', [g.node('ConstantOfShape', [g.node('Shape', [idx])]), g.constF(1)]);
    q = g.node('Mul', [q, g.node('ScatterElements', [zeros, idx, ones], { axis: -1 })]);
  }
  if (g.target === 'cpu') return { x: q, scale: g.node('Div', [s, g.constF(Q)]) };
  let scale: string | undefined;
  return {
    x: q,
    get scale() {
      return (scale ??= g.node('Div', [s, g.constF(Q)]));
    },
    absScale: { s, Q },
  };
}

/** MatMulNBits block size: the largest power of two in 16..128 that divides the input width. */
export function blockSizeFor(cols: number): number {
  for (let bs = 128; bs >= 16; bs /= 2) if (cols % bs === 0) return bs;
  return 16; // rows are padded to whole blocks (see packedMatMul)
}

/**
 * How MatMulNBits computes x_q . W^T:
 * - 'fp32': weights dequantized to float, float32 products (exact: integer sums below 2^24).
 * - 'int8-exact': accuracy_level 4 (int8 x int8 -> int32 kernels, ~60x faster on the CPU). ORT then
 *   re-quantizes the activations per block of 128 with scale = block max / 127; each block gets a
 *   sentinel element 127 (with weight 0), so that scale is exactly 1 and the integer codes pass
 *   through unchanged (|x_q| <= 127 for INT8 absmax, <= 8 for INT4). Weights are repacked at load
 *   to 124 input channels + one zero byte per block (~3% more weight bytes).
 * - 'int8-approx': accuracy_level 4 on the plain layout: not exact (benchmarks only).
 */
export const MATMUL_MODES = ['fp32', 'int8-exact', 'int8-approx'] as const;
export type MatMulMode = (typeof MATMUL_MODES)[number];

const SENTINEL_BLOCK = 128;
const SENTINEL_PAYLOAD = SENTINEL_BLOCK - 4; // one byte (4 codes) per block holds the sentinel slots

/**
 * y = (x_q . W^T) * scale * alpha for one or more projections sharing the input (their rows are
 * concatenated: one kernel launch for q|k|v or gate|up). Weights stay 2-bit: the stored bytes are
 * MatMulNBits' B layout (codes w + 1, lowest bits first) with zero point 1 and block scale 1.
 */
export function packedMatMul(g: GraphBuilder, name: string, input: Quantized, ws: BitLinearWeights[], mode: MatMulMode = 'fp32'): string {
  const K = ws[0].cols;
  if (ws.some((w) => w.cols !== K)) throw new Error(`${name}: fused projections must share the input width`);
  const N = ws.reduce((a, w) => a + w.rows, 0);
  // Without a quantizer (fp) there are no integer codes to keep exact.
  const sentinel = mode === 'int8-exact' && (input.absScale !== undefined || input.scale !== undefined);
  const bs = sentinel ? SENTINEL_BLOCK : blockSizeFor(K);
  const payload = sentinel ? SENTINEL_PAYLOAD : bs; // input channels per block
  const nBlocks = Math.ceil(K / payload);
  const rowBytes = (nBlocks * bs) / 4;
  const B = new Uint8Array(N * rowBytes);
  let row = 0;
  for (const w of ws) {
    if (rowBytes === K / 4) B.set(w.packed, row * rowBytes);
    else {
      // Blocks of `payload` channels, padded with code 1 (weight 0) to whole blocks.
      B.fill(0x55, row * rowBytes, (row + w.rows) * rowBytes);
      for (let r = 0; r < w.rows; r++) {
        const src = (r * K) / 4;
        for (let b = 0; b < nBlocks; b++) {
          const from = src + (b * payload) / 4;
          B.set(w.packed.subarray(from, Math.min(from + payload / 4, src + K / 4)), (row + r) * rowBytes + (b * bs) / 4);
        }
      }
    }
    row += w.rows;
  }
  let x = input.x;
  let Kin = K;
  if (sentinel) {
    // [.., K] -> pad to nBlocks * payload -> [.., nBlocks, payload] ++ [127, 0, 0, 0] -> [.., nBlocks * bs]
    Kin = nBlocks * bs;
    const padded = g.node('Pad', [x, g.constI([0, 0, 0, 0, 0, nBlocks * payload - K])]);
    const blocks = g.node('Reshape', [padded, g.constI([1, -1, nBlocks, payload])]);
    const shape = g.node('Concat', [g.node('Shape', [blocks], { end: 3 }), g.constI([4])], { axis: 0 });
    const marks = g.node('Expand', [g.shared('sentinel', (n) => g.f32(n, [4], [127, 0, 0, 0])), shape]);
    x = g.node('Reshape', [g.node('Concat', [blocks, marks], { axis: -1 }), g.constI([1, -1, Kin])]);
  }
  const zpBytes = Math.ceil((nBlocks * 2) / 8);
  const zp = new Uint8Array(N * zpBytes).fill(0x55); // every 2-bit zero point = 1
  const y = g.node(
    'MatMulNBits',
    [
      x,
      g.initializer(`${name}.B`, DT.UINT8, [N, nBlocks, bs / 4], B),
      g.f32(`${name}.block_scales`, [N * nBlocks], new Float32Array(N * nBlocks).fill(1)),
      g.initializer(`${name}.zero_points`, DT.UINT8, [N * zpBytes], zp),
    ],
    { K: Kin, N, bits: 2, block_size: bs, ...(sentinel || mode === 'int8-approx' ? { accuracy_level: 4 } : {}) },
    undefined,
    'com.microsoft',
  );
  const alphas = (k: number) => (ws.length === 1 ? g.constF(ws[0].alpha * k) : g.f32(`${name}.alpha`, [N], ws.flatMap((w) => new Array<number>(w.rows).fill(w.alpha * k))));
  // GPU graphs: y * (s * alpha / Q), two dispatches instead of three.
  if (input.absScale) return g.node('Mul', [y, g.node('Mul', [input.absScale.s, alphas(1 / input.absScale.Q)])]);
  const scaled = input.scale ? g.node('Mul', [y, input.scale]) : y;
  return g.node('Mul', [scaled, alphas(1)]);
}

/** Power-of-two factor sizes of at most 128 whose product is `pow2` (Sylvester H_a ⊗ H_b = H_ab). */
function splitPow2(pow2: number): number[] {
  const out: number[] = [];
  for (let rest = pow2; rest > 1; ) {
    const f = Math.min(rest, 128);
    out.push(f);
    rest /= f;
  }
  return out;
}

/**
 * Orthonormal Hadamard transform over the last axis (width n = K * 2^k, index i * 2^k + j):
 * H_n = H_K ⊗ H_{2^k}, applied as one small MatMul per Kronecker factor, never a dense n x n product.
 */
export function hadamardOp(g: GraphBuilder, x: string, n: number): string {
  const { K, pow2 } = hadamardPlan(n);
  const factors = [...(K > 1 ? [K] : []), ...splitPow2(pow2)];
  let y = x;
  let post = n;
  factors.forEach((f, idx) => {
    post /= f;
    if (post === 1) {
      // Last factor: rows of length f times H^T.
      const HT = g.shared(`hadamard${f}T`, (name) => {
        const H = denseHadamard(f);
        const t = new Float32Array(f * f);
        for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) t[b * f + a] = H[a * f + b];
        g.f32(name, [f, f], t);
      });
      y = g.node('MatMul', [g.node('Reshape', [y, g.constI([-1, f])]), HT]);
    } else {
      const Hf = g.shared(`hadamard${f}`, (name) => g.f32(name, [f, f], denseHadamard(f)));
      y = g.node('MatMul', [Hf, g.node('Reshape', [y, g.constI([-1, f, post])])]);
    }
    if (idx === factors.length - 1) y = g.node('Reshape', [y, g.constI([1, -1, n])]);
  });
  return y;
}

/**
 * The v2 retrofit experiment (engine/common/experiment.ts): y = (x_q . (W Hᵀ)ᵀ) * scale with the
 * full-precision rotated weight W Hᵀ, W = alpha * w, as a float32 initializer [rows, cols] (a plain
 * Gemm, no packed kernel). Built one row at a time in float64: row r of W Hᵀ is H W[r]ᵀ.
 */
export function rotatedMatMul(g: GraphBuilder, name: string, input: Quantized, w: BitLinearWeights): string {
  const { rows, cols } = w;
  const out = new Float32Array(rows * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const codes = unpackTernary(w.packed.subarray((r * cols) / 4, ((r + 1) * cols) / 4), 1, cols);
    for (let c = 0; c < cols; c++) row[c] = w.alpha * codes[c];
    hadamardTransform(row, cols);
    out.set(row, r * cols);
  }
  const x2 = g.node('Reshape', [input.x, g.constI([-1, cols])]);
  const y2 = g.node('Gemm', [x2, g.initializer(`${name}.rotated`, DT.FLOAT, [rows, cols], out)], { transB: 1 });
  const y = g.node('Reshape', [y2, g.constI([1, -1, rows])]);
  return input.scale ? g.node('Mul', [y, input.scale]) : y;
}
