#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// First step of a Hadamard site's input, H_n = (H_K (x) H_P) / sqrt(n), n = K * P: workgroup r
// takes row r of the K x P view of x * w (x: input.glsl's element, w: the norm weight), runs the
// Walsh-Hadamard butterflies of H_P on it in shared memory, writes it to work, and writes the sum
// of x^2 over its row to rowSq[r]. The RMSNorm's scalar 1 / rms is applied after the transform
// (hadk.comp: it is linear), so the K rows run in parallel instead of one workgroup doing all.
// Token row gl_WorkGroupID.y of the step: work at row * n, rowSq at row * 128.
// Taps: with tapOff set, the step's last row also writes x * w (the SubLN output before the
// transform, still without 1 / rms, which hadk.comp applies there) to taps[tapOff..tapOff + n).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXP = 4096;
layout(constant_id = 1) const uint MAXHS = 1024;  // heads x splits (mode 3)
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 2) readonly buffer Norms { float norms[]; };
layout(std430, binding = 4) writeonly buffer Work { float work[]; };
layout(std430, binding = 5) writeonly buffer RowSq { float rowSq[]; };
layout(std430, binding = 7) writeonly buffer Taps { float taps[]; };
layout(push_constant) uniform Push {
  uint n;
  uint mode;  // input.glsl's
  uint normOff;
  uint P;     // 2^k
  uint splits;
  uint headDim;
  uint srcStride;  // floats per token row of src
  uint tapOff;     // 0xffffffff: taps off
} pc;

#include "params.glsl"
#include "input.glsl"

shared float xs[MAXP];
shared float red[256];

void main() {
  uint tok = gl_WorkGroupID.y;
  if (tok >= P.count) return;
  srcBase = tok * pc.srcStride;
  uint t = gl_LocalInvocationID.x, P2 = pc.P, base = gl_WorkGroupID.x * P2, out0 = tok * pc.n;
  if (pc.mode == 3u) mergeWeights(pc.n / pc.headDim, pc.splits, pc.headDim);
  float ss = 0.0;
  for (uint i = t; i < P2; i += 256) {
    float x = inputAt(base + i, pc.n, pc.mode, pc.splits, pc.headDim);
    ss += x * x;
    xs[i] = x * norms[pc.normOff + base + i];
  }
  if (pc.tapOff != 0xffffffffu && tok == P.count - 1u)
    for (uint i = t; i < P2; i += 256) taps[pc.tapOff + base + i] = xs[i];
  ss = subgroupAdd(ss);
  if (subgroupElect()) red[gl_SubgroupID] = ss;
  barrier();
  if (t == 0u) {
    float r = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) r += red[i];
    rowSq[tok * 128 + gl_WorkGroupID.x] = r;
  }
  uint halfP = P2 / 2;
  for (uint len = 1; len < P2; len <<= 1) {
    for (uint b = t; b < halfP; b += 256) {
      uint a = (b / len) * 2 * len + (b % len);
      float x = xs[a], y = xs[a + len];
      xs[a] = x + y;
      xs[a + len] = x - y;
    }
    barrier();
  }
  for (uint i = t; i < P2; i += 256) work[out0 + base + i] = xs[i];
}
