#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Second step of a Hadamard site's input (after hadp.comp), over many workgroups (one output per
// invocation; 64 per workgroup, as each makes K loads): out[i][j] = sum_l H_K[i][l] * x[l][j] *
// inv / sqrt(n), x being hadp.comp's rows and inv = 1 / sqrt(sum of their sums of squares / n + eps)
// the RMSNorm's scale. H_K comes as sign bits (1: -1), row-major. Token row gl_WorkGroupID.y of the
// step: x and y at row * n, rowSq at row * 128. Taps: with tapOff set, the step's last row scales
// hadp.comp's pre-transform tap by 1 / rms in place (each invocation its own element).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "params.glsl"
layout(std430, binding = 1) readonly buffer In { float x[]; };
layout(std430, binding = 2) readonly buffer Had { uint hk[]; };
layout(std430, binding = 3) writeonly buffer Out { float y[]; };
layout(std430, binding = 5) readonly buffer RowSq { float rowSq[]; };
layout(std430, binding = 7) buffer Taps { float taps[]; };
layout(push_constant) uniform Push {
  uint n;
  uint K;
  uint P;
  uint hadOff;
  float norm;  // 1 / sqrt(n)
  float eps;
  uint tapOff;  // 0xffffffff: taps off
} pc;

shared uint hbits[(128 * 128 + 31) / 32];
shared float scaleShared, invShared;

void main() {
  uint tok = gl_WorkGroupID.y;
  if (tok >= P.count) return;
  uint t = gl_LocalInvocationID.x, K = pc.K, rb = tok * pc.n;
  for (uint w = t; w < (K * K + 31) / 32; w += 64) hbits[w] = hk[pc.hadOff + w];
  if (gl_SubgroupID == 0u) {
    float s = 0.0;
    for (uint l = gl_SubgroupInvocationID; l < K; l += gl_SubgroupSize) s += rowSq[tok * 128 + l];
    s = subgroupAdd(s);
    if (subgroupElect()) {
      invShared = 1.0 / sqrt(s / float(pc.n) + pc.eps);
      scaleShared = pc.norm / sqrt(s / float(pc.n) + pc.eps);
    }
  }
  barrier();
  uint o = gl_GlobalInvocationID.x;
  if (o >= pc.n) return;
  if (pc.tapOff != 0xffffffffu && tok == P.count - 1u) taps[pc.tapOff + o] *= invShared;
  uint i = o / pc.P, j = o % pc.P;
  // Four independent partial sums, so the loads of x are not serialised behind one accumulator.
  float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  uint l = 0, row = i * K, P2 = pc.P;
  for (; l + 4 <= K; l += 4) {
    float v0 = x[rb + l * P2 + j], v1 = x[rb + (l + 1) * P2 + j], v2 = x[rb + (l + 2) * P2 + j], v3 = x[rb + (l + 3) * P2 + j];
    uint b = row + l;
    s0 += ((hbits[b >> 5] >> (b & 31u)) & 1u) != 0u ? -v0 : v0;
    s1 += ((hbits[(b + 1) >> 5] >> ((b + 1) & 31u)) & 1u) != 0u ? -v1 : v1;
    s2 += ((hbits[(b + 2) >> 5] >> ((b + 2) & 31u)) & 1u) != 0u ? -v2 : v2;
    s3 += ((hbits[(b + 3) >> 5] >> ((b + 3) & 31u)) & 1u) != 0u ? -v3 : v3;
  }
  for (; l < K; l++) {
    float v = x[rb + l * P2 + j];
    uint b = row + l;
    s0 += ((hbits[b >> 5] >> (b & 31u)) & 1u) != 0u ? -v : v;
  }
  float s = (s0 + s1) + (s2 + s3);
  y[rb + o] = s * scaleShared;
}
