#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// The input of a BitLinear without a Hadamard transform, in one workgroup: x = RMSNorm(src) * w
// (src: the residual stream, the attention output merged from its partials, or the GLU act(g) * u),
// then the per-token quantizer: int8 absmax, int4 absmean or a4.8's masked int8, written in
// gemv.comp's layout (codes biased by 128, two per uint32, plane-major; columns past n are code 0),
// with its scale and the sum of the codes in Params. quant 0: x goes to work[0..n) as float (final
// norm; one row: work[0..n)). stage 1: src is hadk.comp's output (already normed and transformed): quantize only. The
// vector stays in shared memory; reductions are subgroup sums then one pass over the subgroups'
// partials (the same order every time). One workgroup of up to 1024 invocations: the latency of its
// strided loops is the cost. The order of operations follows docs/model-format.md
// (float32 here, float64 on the CPU). One workgroup per token row of the step (gl_WorkGroupID.y);
// the row's codes go to xa at row * 32 * nv, its scale and code sum to P.rows[row].
// Taps (the inspector): with tapOff set, the step's last row also writes its float quantizer input
// (before a4.8's mask, as the CPU backend records it) to taps[tapOff..tapOff + n).
layout(local_size_x_id = 1) in;
layout(constant_id = 0) const uint MAXN = 4096;  // widest input: the vector stays in shared memory
layout(constant_id = 1) const uint NT = 256;     // invocations (the device's most, up to 1024; >= 256)
layout(constant_id = 2) const uint MAXHS = 1024; // heads x splits (mode 3)
#include "params.glsl"
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 2) readonly buffer Norms { float norms[]; };
layout(std430, binding = 4) writeonly buffer Work { float work[]; };
layout(std430, binding = 5) writeonly buffer Xa { uint xa[]; };
layout(std430, binding = 7) writeonly buffer Taps { float taps[]; };
layout(push_constant) uniform Push {
  uint n;        // width
  uint mode;     // input.glsl's
  uint normOff;  // offset of w in norms
  uint quant;    // 0: none (float out), 1: int8 absmax, 2: int4 absmean, 3: int8 absmax, then only
                 // the n/2 channels of largest |x| kept (a4.8's W_o input; ties: lower index)
  uint nv;       // gemv.comp's uvec4s per row (n / 64 rounded up)
  float eps;
  uint splits;   // mode 3
  uint headDim;  // mode 3
  uint stage;    // 0: norm + quantizer; 1: quantizer only
  uint srcStride;  // floats per token row of src
  uint lastRow;    // 1: one workgroup for the step's last row (the final norm before the LM head)
  uint tapOff;     // NO_TAP: taps off (every prompt submission but the last; taps off altogether)
} pc;

const uint NO_TAP = 0xffffffffu;

#include "input.glsl"

shared float xs[MAXN];
shared float redf[NT];
shared int redi[NT];
shared int sumi[NT];

float sumAll(float v) {
  v = subgroupAdd(v);
  barrier();  // the previous reduction's readers are done with redf
  if (subgroupElect()) redf[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r += redf[i];
  return r;
}

float maxAll(float v) {
  v = subgroupMax(v);
  barrier();
  if (subgroupElect()) redf[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r = max(r, redf[i]);
  return r;
}

int sumAllInt(int v) {
  v = subgroupAdd(v);
  if (subgroupElect()) sumi[gl_SubgroupID] = v;
  barrier();
  int r = 0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r += sumi[i];
  return r;
}

shared uint selShared, needShared;

// a4.8's top-K mask: zeroes xs[i] outside the K = n/2 channels of largest |x| (among equal |x| the
// lower index is kept). Radix select over the float bits of |x| (monotonic for x >= 0), 8 bits per
// pass from the top, then the ties at the threshold ranked by index over contiguous ranges.
void topHalf(uint n) {
  uint t = gl_LocalInvocationID.x;
  uint prefix = 0u, prefixMask = 0u, need = n / 2;
  for (int shift = 24; shift >= 0; shift -= 8) {
    redi[t] = 0;  // the 256 bins of this pass (NT >= 256)
    barrier();
    for (uint i = t; i < n; i += NT) {
      uint k = floatBitsToUint(abs(xs[i]));
      if ((k & prefixMask) == prefix) atomicAdd(redi[(k >> uint(shift)) & 255u], 1);
    }
    barrier();
    if (t == 0u) {
      uint cum = 0u, sel = 0u;
      for (int b = 255; b >= 0; b--) {
        uint c = uint(redi[b]);
        if (cum + c >= need) {
          sel = uint(b);
          break;
        }
        cum += c;
      }
      selShared = sel;
      needShared = need - cum;
    }
    barrier();
    prefix |= selShared << uint(shift);
    prefixMask |= 255u << uint(shift);
    need = needShared;
    barrier();
  }
  // prefix: the K-th largest key; keep every larger key and the first `need` equal ones.
  uint chunk = (n + NT - 1) / NT, b = min(n, t * chunk), e = min(n, b + chunk);
  int eq = 0;
  for (uint i = b; i < e; i++) eq += floatBitsToUint(abs(xs[i])) == prefix ? 1 : 0;
  redi[t] = eq;
  barrier();
  if (t == 0u) {
    int run = 0;
    for (uint j = 0; j < NT; j++) {
      int c = redi[j];
      redi[j] = run;
      run += c;
    }
  }
  barrier();
  uint rank = uint(redi[t]);
  for (uint i = b; i < e; i++) {
    uint k = floatBitsToUint(abs(xs[i]));
    if (k < prefix || (k == prefix && rank++ >= need)) xs[i] = 0.0;
  }
  barrier();
}

void main() {
  uint t = gl_LocalInvocationID.x;
  uint n = pc.n;
  uint row = pc.lastRow != 0u ? P.count - 1u : gl_WorkGroupID.y;
  if (row >= P.count) return;
  srcBase = row * pc.srcStride;
  if (pc.mode == 3u && pc.stage == 0u) mergeWeights(pc.n / pc.headDim, pc.splits, pc.headDim);
  float ss = 0.0;
  for (uint i = t; i < n; i += NT) {
    float x = inputAt(i, n, pc.stage == 1u ? 0u : pc.mode, pc.splits, pc.headDim);
    xs[i] = x;
    ss += x * x;
  }
  if (pc.stage == 0u) {
    ss = sumAll(ss);
    float inv = 1.0 / sqrt(ss / float(n) + pc.eps);
    for (uint i = t; i < n; i += NT) xs[i] = xs[i] * inv * norms[pc.normOff + i];
  }
  barrier();
  if (pc.tapOff != NO_TAP && row == P.count - 1u)
    for (uint i = t; i < n; i += NT) taps[pc.tapOff + i] = xs[i];

  if (pc.quant == 0u) {
    for (uint i = t; i < n; i += NT) work[i] = xs[i];
    return;
  }
  float a, d, qmin, qmax;
  if (pc.quant == 1u || pc.quant == 3u) {
    float g = 0.0;
    for (uint i = t; i < n; i += NT) g = max(g, abs(xs[i]));
    g = maxAll(g);
    a = 127.0; d = g + 1e-5; qmin = -128.0; qmax = 127.0;
    if (t == 0u) P.rows[row].scale = g / 127.0;
    if (pc.quant == 3u) topHalf(n);  // after the absmax of the whole row
  } else {
    float s = 0.0;
    for (uint i = t; i < n; i += NT) s += abs(xs[i]);
    float b = sumAll(s) / float(n);
    a = sqrt(7.0); d = b + 1e-5; qmin = -8.0; qmax = 7.0;
    if (t == 0u) P.rows[row].scale = b / sqrt(7.0);
  }
  // One uint32 of gemv.comp's layout per iteration (u = (s * nv + v) * 4 + c: word k = 4v + s / 2,
  // pair j = 4 (s % 2) + c, columns 16k + j and 16k + j + 8), so every invocation has work.
  int qsum = 0;
  uint nv = pc.nv, xb = row * 32 * nv;
  for (uint u = t; u < 32 * nv; u += NT) {
    uint sv = u >> 2, k = 4 * (sv % nv) + (sv / nv) / 2, j = 4 * ((sv / nv) % 2) + (u & 3u);
    uint lo = 16 * k + j, hi = lo + 8;
    int qlo = lo < n ? int(clamp(roundEven((a * xs[lo]) / d), qmin, qmax)) : 0;
    int qhi = hi < n ? int(clamp(roundEven((a * xs[hi]) / d), qmin, qmax)) : 0;
    qsum += qlo + qhi;
    xa[xb + u] = uint(qhi + 128) | (uint(qlo + 128) << 16);
  }
  qsum = sumAllInt(qsum);
  if (t == 0u) P.rows[row].xsum = qsum;
}
