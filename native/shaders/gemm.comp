#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Ternary GEMM of a prompt chunk (batched prefill): y[t][r] for the P.count (<= T) activation rows t
// of the chunk, each weight uvec4 loaded once and applied to every row. The arithmetic per (t, r) is
// gemv.comp's (the same exact integer sums, the same float expression with row t's scale and sum of
// codes), so a chunk gives what T decode steps give. Activations: row t is gemv.comp's layout at
// uvec4 t * 8 * nv. One weight row per subgroup; T integer accumulators per lane.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint T = 32;  // rows per chunk (Config::prefillChunk)
#include "params.glsl"
layout(std430, binding = 1) readonly buffer Weights { uvec4 wt[]; };
layout(std430, binding = 2) readonly buffer Xa { uvec4 xa[]; };
layout(std430, binding = 3) buffer Out { float y[]; };
layout(push_constant) uniform Push {
  uint rows;
  uint nv;     // uvec4s per row (columns / 64, padded)
  uint wOff;   // uvec4 offset of row 0 in wt
  uint seg1;   // rows [0, seg1) use alpha0, [seg1, seg2) alpha1, the rest alpha2
  uint seg2;
  float alpha0;
  float alpha1;
  float alpha2;
  uint add;
  uint outStride;     // floats per activation row of y
  uint rowsPerGroup;  // 256 / the subgroup size the host expects
} pc;

uint dot16(uint w, uvec4 a0, uvec4 a1) {
  const uint M = 0x00030003u;
  return a0.x * (w & M) + a0.y * ((w >> 2) & M) + a0.z * ((w >> 4) & M) + a0.w * ((w >> 6) & M) + a1.x * ((w >> 8) & M) +
         a1.y * ((w >> 10) & M) + a1.z * ((w >> 12) & M) + a1.w * ((w >> 14) & M);
}

void main() {
  uint nv = pc.nv, count = min(P.count, T);
  uint end = min(pc.rows, (gl_WorkGroupID.x + 1) * pc.rowsPerGroup);
  for (uint row = gl_WorkGroupID.x * pc.rowsPerGroup + gl_SubgroupID; row < end; row += gl_NumSubgroups) {
    int acc[T];
    for (uint t = 0; t < T; t++) acc[t] = 0;
    int codes = 0;
    for (uint v = gl_SubgroupInvocationID; v < nv; v += gl_SubgroupSize) {
      uvec4 w = wt[pc.wOff + row * nv + v];
      codes += bitCount(w.x) + bitCount(w.x & 0xAAAAAAAAu) + bitCount(w.y) + bitCount(w.y & 0xAAAAAAAAu) + bitCount(w.z) + bitCount(w.z & 0xAAAAAAAAu) +
               bitCount(w.w) + bitCount(w.w & 0xAAAAAAAAu);
      for (uint t = 0; t < T; t++) {
        if (t < count) {
          uint b = t * 8 * nv + v;
          uint hi = dot16(w.x, xa[b], xa[b + nv]) >> 16;
          hi += dot16(w.y, xa[b + 2 * nv], xa[b + 3 * nv]) >> 16;
          hi += dot16(w.z, xa[b + 4 * nv], xa[b + 5 * nv]) >> 16;
          hi += dot16(w.w, xa[b + 6 * nv], xa[b + 7 * nv]) >> 16;
          acc[t] += int(hi);
        }
      }
    }
    float alpha = row < pc.seg1 ? pc.alpha0 : row < pc.seg2 ? pc.alpha1 : pc.alpha2;
    for (uint t = 0; t < T; t++) {
      if (t < count) {
        int s = subgroupAdd(acc[t] - 128 * codes);
        if (subgroupElect()) {
          float v = float(s - P.rows[t].xsum) * (P.rows[t].scale * alpha);
          if (pc.add != 0u) y[t * pc.outStride + row] += v;
          else y[t * pc.outStride + row] = v;
        }
      }
    }
  }
}
