#version 450
// LM head: logits[r] = sum_c E[r][c] * x[c], E in F16 (pairs read as uint32), float32 sums; 32
// lanes per row, 8 rows per workgroup, x (the final norm's output) in shared memory.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXD = 4096;
layout(std430, binding = 1) readonly buffer Table { uint table[]; };
layout(std430, binding = 2) readonly buffer X { float x[]; };
layout(std430, binding = 3) writeonly buffer Logits { float logits[]; };
layout(push_constant) uniform Push { uint rows; uint pairs; } pc;

shared float xs[MAXD];
shared float part[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  for (uint i = t; i < pc.pairs * 2; i += 256) xs[i] = x[i];
  barrier();
  uint lane = t & 31u, sub = t >> 5;
  uint row = gl_WorkGroupID.x * 8 + sub;
  float acc = 0.0;
  if (row < pc.rows) {
    uint base = row * pc.pairs;
    for (uint k = lane; k < pc.pairs; k += 32) {
      vec2 w = unpackHalf2x16(table[base + k]);
      acc += w.x * xs[2 * k] + w.y * xs[2 * k + 1];
    }
  }
  part[t] = acc;
  barrier();
  for (uint s = 16; s > 0; s >>= 1) {
    if (lane < s) part[t] += part[t + s];
    barrier();
  }
  if (lane == 0u && row < pc.rows) logits[row] = part[t];
}
