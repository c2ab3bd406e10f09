#version 450
// The float input of a BitLinear whose quantizer comes after a transform, in one workgroup:
// x = RMSNorm(src) * w (src: the attention output, or the GLU act(g) * u), then the Hadamard
// transform H_n = (H_K (x) H_P) / sqrt(n) (hadK > 0), written to out[0..n); gemv.comp quantizes
// it. Also the final norm before the LM head (hadK = 0). The vector stays in shared memory.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXN = 4096;  // widest input
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; } P;
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 2) readonly buffer Norms { float norms[]; };
layout(std430, binding = 3) readonly buffer Had { int hk[]; };
layout(std430, binding = 4) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform Push {
  uint n;        // width
  uint mode;     // 0: src[i]; 1: relu(g)^2 * u; 2: silu(g) * u  (g = src[i], u = src[n + i])
  uint normOff;  // offset of w in norms
  uint hadK;     // 0: no Hadamard; else the order K of the H_K factor (1: Sylvester only)
  uint hadP;     // 2^k, n = K * P
  uint hadOff;   // offset of H_K (K x K, row-major) in hk
  float eps;
} pc;

shared float xs[MAXN];
shared float red[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  uint n = pc.n;
  float ss = 0.0;
  for (uint i = t; i < n; i += 256) {
    float x;
    if (pc.mode == 0u) {
      x = src[i];
    } else {
      float g = src[i], u = src[n + i];
      if (pc.mode == 1u) {
        float r = max(g, 0.0);
        x = r * r * u;
      } else {
        x = g / (1.0 + exp(-g)) * u;
      }
    }
    xs[i] = x;
    ss += x * x;
  }
  red[t] = ss;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  float inv = 1.0 / sqrt(red[0] / float(n) + pc.eps);
  for (uint i = t; i < n; i += 256) xs[i] = xs[i] * inv * norms[pc.normOff + i];
  barrier();
  if (pc.hadK == 0u) {
    for (uint i = t; i < n; i += 256) outv[i] = xs[i];
    return;
  }
  uint P2 = pc.hadP, K = pc.hadK, halfP = P2 / 2;
  // Walsh-Hadamard butterflies within each of the K rows of P.
  for (uint len = 1; len < P2; len <<= 1) {
    for (uint b = t; b < K * halfP; b += 256) {
      uint r = b / halfP, k = b % halfP;
      uint a = r * P2 + (k / len) * 2 * len + (k % len);
      float x = xs[a], y = xs[a + len];
      xs[a] = x + y;
      xs[a + len] = x - y;
    }
    barrier();
  }
  float norm = 1.0 / sqrt(float(n));
  if (K == 1u) {
    for (uint i = t; i < n; i += 256) outv[i] = xs[i] * norm;
    return;
  }
  // out[i][j] = sum_l H_K[i][l] * x[l][j]
  for (uint o = t; o < n; o += 256) {
    uint i = o / P2, j = o % P2;
    float s = 0.0;
    for (uint l = 0; l < K; l++) s += float(hk[pc.hadOff + i * K + l]) * xs[l * P2 + j];
    outv[o] = s * norm;
  }
}
