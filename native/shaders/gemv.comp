#version 450
// BitLinear as one dispatch: every workgroup first builds the quantized input itself (the input
// vector is a few KB, re-read from L2 by each workgroup): x = src (the residual stream, the
// attention output, act(g) * u, or a vector prep.comp already normalised and rotated), optionally
// x = RMSNorm(x) * w, then the per-token quantizer (int8 absmax or int4 absmean) into shared memory.
// Then the ternary GEMV with integer accumulation: y[r] = (sum_c code(r, c) * q[c] - sum_c q[c]) *
// scale * alpha, code = w + 1 in {0, 1, 2}: the packed layout of docs/model-format.md read as uint32
// words of 16 columns (rows padded to whole words with code 1). 32 lanes per row, 8 rows at a time,
// `rowsPerGroup` rows per workgroup. Up to three row segments (q, k, v or gate, up) with their own
// alpha. add: y is added to out (the residual stream). The order of the quantizer's operations
// follows docs/model-format.md (float32 here, float64 on the CPU).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXA = 1024;  // groups of 4 columns the shared array holds (padded width / 4)
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; } P;
layout(std430, binding = 1) readonly buffer Weights { uint wt[]; };
layout(std430, binding = 2) readonly buffer Src { float src[]; };
layout(std430, binding = 3) buffer Out { float y[]; };
layout(std430, binding = 4) readonly buffer Norms { float norms[]; };
layout(push_constant) uniform Push {
  uint rows;
  uint words;    // weight words per row (columns / 16, padded)
  uint wOff;     // word offset of row 0 in wt
  uint seg1;     // rows [0, seg1) use alpha0, [seg1, seg2) alpha1, the rest alpha2
  uint seg2;
  float alpha0;
  float alpha1;
  float alpha2;
  uint add;
  uint n;        // input width
  uint mode;     // 0: src[i]; 1: relu(g)^2 * u; 2: silu(g) * u  (g = src[i], u = src[n + i])
  uint normOff;  // offset of the RMSNorm weight in norms; 0xffffffff: no norm
  uint quant;    // 1: int8 absmax, 2: int4 absmean
  float eps;
  uint rowsPerGroup;
} pc;

shared uvec4 sx[MAXA];  // the input as float bits, then the int codes
shared float red[256];
shared int redi[256];

float sumAll(float v) {
  uint t = gl_LocalInvocationID.x;
  red[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

float maxAll(float v) {
  uint t = gl_LocalInvocationID.x;
  red[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) red[t] = max(red[t], red[t + s]);
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

int sumAllInt(int v) {
  uint t = gl_LocalInvocationID.x;
  redi[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) redi[t] += redi[t + s];
    barrier();
  }
  int r = redi[0];
  barrier();
  return r;
}

float getx(uint i) { return uintBitsToFloat(sx[i >> 2][i & 3u]); }
void setx(uint i, float v) { sx[i >> 2][i & 3u] = floatBitsToUint(v); }

void main() {
  uint t = gl_LocalInvocationID.x;
  uint n = pc.n, padded = pc.words * 16;
  // 1. the input
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
    setx(i, x);
    ss += x * x;
  }
  // 2. RMSNorm
  if (pc.normOff != 0xffffffffu) {
    ss = sumAll(ss);
    float inv = 1.0 / sqrt(ss / float(n) + pc.eps);
    for (uint i = t; i < n; i += 256) setx(i, getx(i) * inv * norms[pc.normOff + i]);
  }
  barrier();
  // 3. the quantizer
  float a, d, lo, hi, scale;
  if (pc.quant == 1u) {
    float g = 0.0;
    for (uint i = t; i < n; i += 256) g = max(g, abs(getx(i)));
    g = maxAll(g);
    a = 127.0; d = g + 1e-5; lo = -128.0; hi = 127.0;
    scale = g / 127.0;
  } else {
    float s = 0.0;
    for (uint i = t; i < n; i += 256) s += abs(getx(i));
    float b = sumAll(s) / float(n);
    a = sqrt(7.0); d = b + 1e-5; lo = -8.0; hi = 7.0;
    scale = b / sqrt(7.0);
  }
  int qsum = 0;
  for (uint i = t; i < padded; i += 256) {
    int q = 0;
    if (i < n) q = int(clamp(roundEven((a * getx(i)) / d), lo, hi));
    qsum += q;
    sx[i >> 2][i & 3u] = uint(q);
  }
  qsum = sumAllInt(qsum);  // its barriers also publish the codes

  // 4. the GEMV
  uint lane = t & 31u, sub = t >> 5;
  for (uint rr = 0; rr < pc.rowsPerGroup; rr += 8) {
    uint row = (gl_WorkGroupID.x * pc.rowsPerGroup + rr) + sub;
    int acc = 0;
    if (rr + sub < pc.rowsPerGroup && row < pc.rows) {
      uint base = pc.wOff + row * pc.words;
      for (uint k = lane; k < pc.words; k += 32) {
        uint w = wt[base + k];
        for (uint g = 0; g < 4; g++) {
          ivec4 q = ivec4(sx[4 * k + g]);
          uint b = w >> (8 * g);
          acc += int(b & 3u) * q.x + int((b >> 2) & 3u) * q.y + int((b >> 4) & 3u) * q.z + int((b >> 6) & 3u) * q.w;
        }
      }
    }
    redi[t] = acc;
    barrier();
    for (uint s = 16; s > 0; s >>= 1) {
      if (lane < s) redi[t] += redi[t + s];
      barrier();
    }
    if (lane == 0u && rr + sub < pc.rowsPerGroup && row < pc.rows) {
      float alpha = row < pc.seg1 ? pc.alpha0 : row < pc.seg2 ? pc.alpha1 : pc.alpha2;
      float v = float(redi[t] - qsum) * (scale * alpha);
      if (pc.add != 0u) y[row] += v;
      else y[row] = v;
    }
    barrier();
  }
}
