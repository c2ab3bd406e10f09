#version 450
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Second step of a Hadamard site's input (after hadp.comp), over many workgroups (one output per
// invocation; 64 per workgroup, as each makes K loads): out[i][j] = sum_l H_K[i][l] * x[l][j] *
// inv / sqrt(n), x being hadp.comp's rows and inv = 1 / sqrt(sum of their sums of squares / n + eps)
// the RMSNorm's scale. H_K comes as sign bits (1: -1), row-major.
layout(local_size_x = 64) in;
layout(std430, binding = 1) readonly buffer In { float x[]; };
layout(std430, binding = 2) readonly buffer Had { uint hk[]; };
layout(std430, binding = 3) writeonly buffer Out { float y[]; };
layout(std430, binding = 5) readonly buffer RowSq { float rowSq[]; };
layout(push_constant) uniform Push {
  uint n;
  uint K;
  uint P;
  uint hadOff;
  float norm;  // 1 / sqrt(n)
  float eps;
} pc;

shared uint hbits[(128 * 128 + 31) / 32];
shared float scaleShared;

void main() {
  uint t = gl_LocalInvocationID.x, K = pc.K;
  for (uint w = t; w < (K * K + 31) / 32; w += 64) hbits[w] = hk[pc.hadOff + w];
  if (gl_SubgroupID == 0u) {
    float s = 0.0;
    for (uint l = gl_SubgroupInvocationID; l < K; l += gl_SubgroupSize) s += rowSq[l];
    s = subgroupAdd(s);
    if (subgroupElect()) scaleShared = pc.norm / sqrt(s / float(pc.n) + pc.eps);
  }
  barrier();
  uint o = gl_GlobalInvocationID.x;
  if (o >= pc.n) return;
  uint i = o / pc.P, j = o % pc.P;
  float s = 0.0;
  for (uint l = 0; l < K; l++) {
    uint bit = i * K + l;
    float v = x[l * pc.P + j];
    s += ((hbits[bit >> 5] >> (bit & 31u)) & 1u) != 0u ? -v : v;
  }
  y[o] = s * scaleShared;
}
