#version 450
// The H_K step of the Hadamard transform H_n = (H_K (x) H_P) / sqrt(n) over many workgroups (one
// output per invocation): out[i][j] = sum_l H_K[i][l] * x[l][j] / sqrt(n), x being prep.comp's
// output after the Walsh-Hadamard rows (stage 1). In one workgroup this step took ~90 us for
// K = 108 on the H100. H_K comes as sign bits (1: -1), row-major.
layout(local_size_x = 256) in;
layout(std430, binding = 1) readonly buffer In { float x[]; };
layout(std430, binding = 2) readonly buffer Had { uint hk[]; };
layout(std430, binding = 3) writeonly buffer Out { float y[]; };
layout(push_constant) uniform Push {
  uint n;
  uint K;
  uint P;
  uint hadOff;
  float norm;  // 1 / sqrt(n)
} pc;

shared uint hbits[(128 * 128 + 31) / 32];

void main() {
  uint t = gl_LocalInvocationID.x, K = pc.K;
  for (uint w = t; w < (K * K + 31) / 32; w += 256) hbits[w] = hk[pc.hadOff + w];
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
  y[o] = s * pc.norm;
}
