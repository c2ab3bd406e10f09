#version 450
// Ternary GEMV with integer accumulation: y[r] = (sum_c code(r, c) * a[c] - sum_c a[c]) * scale * alpha,
// code = w + 1 in {0, 1, 2}: the packed layout of docs/model-format.md read as uint32 words of
// 16 columns (rows padded to whole words with code 1). 32 lanes per row, 8 rows per workgroup; the
// packed activations sit in shared memory. Up to three row segments (q, k, v or gate, up) with their
// own alpha. add: y is added to out (the residual stream).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXA = 2048;  // activation words (columns / 4) the shared array holds
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; float scale; int xsum; } P;
layout(std430, binding = 1) readonly buffer Weights { uint wt[]; };
layout(std430, binding = 2) readonly buffer Xq { uint xq[]; };
layout(std430, binding = 3) buffer Out { float y[]; };
layout(push_constant) uniform Push {
  uint rows;
  uint words;  // weight words per row (columns / 16, padded)
  uint wOff;   // word offset of row 0 in wt
  uint seg1;   // rows [0, seg1) use alpha0, [seg1, seg2) alpha1, the rest alpha2
  uint seg2;
  float alpha0;
  float alpha1;
  float alpha2;
  uint add;
  uint outOff;
} pc;

shared uint xs[MAXA];
shared int part[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  for (uint i = t; i < pc.words * 4; i += 256) xs[i] = xq[i];
  barrier();
  uint lane = t & 31u, sub = t >> 5;
  uint row = gl_WorkGroupID.x * 8 + sub;
  int acc = 0;
  if (row < pc.rows) {
    uint base = pc.wOff + row * pc.words;
    for (uint k = lane; k < pc.words; k += 32) {
      uint w = wt[base + k];
      for (uint g = 0; g < 4; g++) {
        int a = int(xs[4 * k + g]);
        uint b = w >> (8 * g);
        acc += int(b & 3u) * bitfieldExtract(a, 0, 8) + int((b >> 2) & 3u) * bitfieldExtract(a, 8, 8) +
               int((b >> 4) & 3u) * bitfieldExtract(a, 16, 8) + int((b >> 6) & 3u) * bitfieldExtract(a, 24, 8);
      }
    }
  }
  part[t] = acc;
  barrier();
  for (uint s = 16; s > 0; s >>= 1) {
    if (lane < s) part[t] += part[t + s];
    barrier();
  }
  if (lane == 0u && row < pc.rows) {
    float alpha = row < pc.seg1 ? pc.alpha0 : row < pc.seg2 ? pc.alpha1 : pc.alpha2;
    float v = float(part[t] - P.xsum) * (P.scale * alpha);
    if (pc.add != 0u) y[pc.outOff + row] += v;
    else y[pc.outOff + row] = v;
  }
}
