#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Ternary GEMV (a decode step: one row of activations) with exact integer sums: y[r] = (sum_c code(r, c) * a[c] - sum_c a[c]) * scale * alpha,
// code = w + 1 in {0, 1, 2}: the packed layout of docs/model-format.md read as uvec4s of 64 columns
// (rows padded to whole uvec4s with code 1). Code m of a word (bits 2m) is column 16k + m.
//
// Decode without unpacking: prep.comp writes the activations biased to b = a + 128 in [0, 255],
// two per uint32: A(k, j) = b[16k + j + 8] | b[16k + j] << 16 (j < 8). (w >> 2j) & 0x00030003 puts
// codes j and j + 8 in the two 16-bit halves, so one 32-bit multiply A * C has in its upper half
// b[j] * c[j] + b[j+8] * c[j+8] (the cross term b[j+8] * c[j] stays in the lower half, the other one
// overflows out). The 8 products of a word stay below 2^16 in each half even for code 3
// (8 * 2 * 255 * 3 < 2^16), so the upper half is exact; then
// sum code * a = sum code * b - 128 * sum code, with sum code = bitCount(w) + bitCount(w & 0xAAAAAAAA).
// The activations are laid out plane-major: uvec4 s * NV + v holds A(4v + s / 2, 4 (s % 2) .. + 3)
// (NV = uvec4s per row), so a subgroup's lanes read consecutive uvec4s.
//
// R rows per subgroup (any subgroup size; the lanes stride over the rows' uvec4s and share the
// activation loads between the R rows), subgroupAdd for the row sums. Up to three row segments (q, k, v or gate, up) with their own alpha. add: y is added
// to out (the residual stream).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint R = 1;  // rows per subgroup
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
  uint outOff;
  uint rowsPerGroup;  // rows a workgroup takes (R * 256 / the subgroup size the host expects)
} pc;

uint dot16(uint w, uvec4 a0, uvec4 a1) {
  const uint M = 0x00030003u;
  return a0.x * (w & M) + a0.y * ((w >> 2) & M) + a0.z * ((w >> 4) & M) + a0.w * ((w >> 6) & M) + a1.x * ((w >> 8) & M) +
         a1.y * ((w >> 10) & M) + a1.z * ((w >> 12) & M) + a1.w * ((w >> 14) & M);
}

void main() {
  uint nv = pc.nv;
  uint end = min(pc.rows, (gl_WorkGroupID.x + 1) * pc.rowsPerGroup);
  // A subgroup count other than the host's guess still covers every row of the workgroup's range.
  for (uint row0 = gl_WorkGroupID.x * pc.rowsPerGroup + gl_SubgroupID * R; row0 < end; row0 += gl_NumSubgroups * R) {
    int acc[R], codes[R];
    for (uint r = 0; r < R; r++) acc[r] = codes[r] = 0;
    for (uint v = gl_SubgroupInvocationID; v < nv; v += gl_SubgroupSize) {
      uvec4 a[8];
      for (uint s = 0; s < 8; s++) a[s] = xa[s * nv + v];
      for (uint r = 0; r < R; r++) {
        // Rows past the end read row 0's words (in range) and are not written.
        uvec4 w = wt[pc.wOff + (row0 + r < end ? row0 + r : 0u) * nv + v];
        uint hi = dot16(w.x, a[0], a[1]) >> 16;
        hi += dot16(w.y, a[2], a[3]) >> 16;
        hi += dot16(w.z, a[4], a[5]) >> 16;
        hi += dot16(w.w, a[6], a[7]) >> 16;
        acc[r] += int(hi);
        codes[r] += bitCount(w.x) + bitCount(w.x & 0xAAAAAAAAu) + bitCount(w.y) + bitCount(w.y & 0xAAAAAAAAu) + bitCount(w.z) +
                    bitCount(w.z & 0xAAAAAAAAu) + bitCount(w.w) + bitCount(w.w & 0xAAAAAAAAu);
      }
    }
    for (uint r = 0; r < R; r++) {
      int s = subgroupAdd(acc[r] - 128 * codes[r]);
      uint row = row0 + r;
      if (subgroupElect() && row < end) {
        float alpha = row < pc.seg1 ? pc.alpha0 : row < pc.seg2 ? pc.alpha1 : pc.alpha2;
        float v = float(s - P.rows[0].xsum) * (P.rows[0].scale * alpha);
        if (pc.add != 0u) y[pc.outOff + row] += v;
        else y[pc.outOff + row] = v;
      }
    }
  }
}
