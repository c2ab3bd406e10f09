#version 450
// The input of a BitLinear, in one workgroup: x = RMSNorm(src) * w (src: the residual stream,
// the attention output merged from its partials, or the GLU act(g) * u), then optionally the
// Hadamard transform H_n = (H_K (x) H_P) / sqrt(n) (with K > 1 in three dispatches: this one up to
// the Walsh-Hadamard rows, hadk.comp, this one again for the quantizer), then the per-token
// quantizer: int8 absmax, int4 absmean or a4.8's masked int8, packed 4 codes per uint32 (columns
// past n are 0), with its scale and the sum of the codes in Params (the GEMV uses
// sum(code * a) - sum(a)). quant 0: x goes to work[0..n) as float (final norm). The vector stays in
// shared memory. The order of operations follows docs/model-format.md (float32 here, float64 on
// the CPU).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXN = 4096;  // widest input: the vector stays in shared memory
layout(std430, binding = 0) buffer Params { uint pos; uint token; float scale; int xsum; } P;
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 2) readonly buffer Norms { float norms[]; };
layout(std430, binding = 4) writeonly buffer Work { float work[]; };
layout(std430, binding = 5) writeonly buffer Xq { uint xq[]; };
layout(push_constant) uniform Push {
  uint n;        // width
  uint mode;     // 0: src[i]; 1: relu(g)^2 * u; 2: silu(g) * u  (g = src[i], u = src[n + i]);
                 // 3: the attention output, merged from attn.comp's partials
  uint normOff;  // offset of w in norms
  uint quant;    // 0: none (float out), 1: int8 absmax, 2: int4 absmean, 3: int8 absmax, then only
                 // the n/2 channels of largest |x| kept (a4.8's W_o input; ties: lower index)
  uint hadK;     // 0: no Hadamard; else the order K of the H_K factor (1: Sylvester only)
  uint hadP;     // 2^k, n = K * P
  uint hadOff;   // unused here (hadk.comp's)
  uint words;    // packed words to write (>= n / 4, multiple of 4)
  float eps;
  uint splits;   // mode 3: partials per head
  uint headDim;  // mode 3
  uint stage;    // 0: all of the above; 1: stop after the Walsh-Hadamard rows (x to work; hadk.comp
                 // does the H_K step over many workgroups); 2: src is that step's output: quantize it
} pc;

shared float xs[MAXN];
shared float redf[256];
shared int redi[256];

float sumAll(float v) {
  uint t = gl_LocalInvocationID.x;
  redf[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) redf[t] += redf[t + s];
    barrier();
  }
  float r = redf[0];
  barrier();
  return r;
}

float maxAll(float v) {
  uint t = gl_LocalInvocationID.x;
  redf[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) redf[t] = max(redf[t], redf[t + s]);
    barrier();
  }
  float r = redf[0];
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

shared uint selShared, needShared;

// a4.8's top-K mask: zeroes xs[i] outside the K = n/2 channels of largest |x| (among equal |x| the
// lower index is kept). Radix select over the float bits of |x| (monotonic for x >= 0), 8 bits per
// pass from the top, then the ties at the threshold ranked by index over contiguous ranges.
void topHalf(uint n) {
  uint t = gl_LocalInvocationID.x;
  uint prefix = 0u, prefixMask = 0u, need = n / 2;
  for (int shift = 24; shift >= 0; shift -= 8) {
    redi[t] = 0;
    barrier();
    for (uint i = t; i < n; i += 256) {
      uint k = floatBitsToUint(abs(xs[i]));
      if ((k & prefixMask) == prefix) atomicAdd(redi[(k >> uint(shift)) & 255u], 1);
    }
    barrier();
    if (t == 0u) {
      uint cum = 0u, sel = 0u;
      for (int b = 255; b >= 0; b--) {
        uint c = uint(redi[b]);
        if (cum + c >= need) {
          sel = uint(b);
          break;
        }
        cum += c;
      }
      selShared = sel;
      needShared = need - cum;
    }
    barrier();
    prefix |= selShared << uint(shift);
    prefixMask |= 255u << uint(shift);
    need = needShared;
    barrier();
  }
  // prefix: the K-th largest key; keep every larger key and the first `need` equal ones.
  uint chunk = (n + 255) / 256, b = min(n, t * chunk), e = min(n, b + chunk);
  int eq = 0;
  for (uint i = b; i < e; i++) eq += floatBitsToUint(abs(xs[i])) == prefix ? 1 : 0;
  redi[t] = eq;
  barrier();
  if (t == 0u) {
    int run = 0;
    for (uint j = 0; j < 256u; j++) {
      int c = redi[j];
      redi[j] = run;
      run += c;
    }
  }
  barrier();
  uint rank = uint(redi[t]);
  for (uint i = b; i < e; i++) {
    uint k = floatBitsToUint(abs(xs[i]));
    if (k < prefix || (k == prefix && rank++ >= need)) xs[i] = 0.0;
  }
  barrier();
}

void sync() {
  memoryBarrierBuffer();
  barrier();
}

void main() {
  uint t = gl_LocalInvocationID.x;
  uint n = pc.n;
  float ss = 0.0;
  for (uint i = t; i < n; i += 256) {
    float x;
    if (pc.mode == 0u) {
      x = src[i];
    } else if (pc.mode == 3u) {
      // Merge the partial softmaxes (m, l, o) of head i / hd over the splits.
      uint hdim = pc.headDim, splits = pc.splits, h = i / hdim, j = i % hdim, stride = 2 + hdim;
      uint b = h * splits * stride;
      float M = -1.0 / 0.0;
      for (uint s = 0; s < splits; s++) M = max(M, src[b + s * stride]);
      float num = 0.0, den = 0.0;
      for (uint s = 0; s < splits; s++) {
        float w = exp(src[b + s * stride] - M);  // an empty split has m = -inf: weight 0
        den += w * src[b + s * stride + 1];
        num += w * src[b + s * stride + 2 + j];
      }
      x = num / den;
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
  if (pc.stage != 2u) {
    ss = sumAll(ss);
    float inv = 1.0 / sqrt(ss / float(n) + pc.eps);
    for (uint i = t; i < n; i += 256) xs[i] = xs[i] * inv * norms[pc.normOff + i];
  }
  sync();

  if (pc.hadK > 0u && pc.stage != 2u) {
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
      sync();
    }
    if (pc.stage == 1u) {
      for (uint i = t; i < n; i += 256) work[i] = xs[i];
      return;
    }
    // K = 1 here (a K > 1 site stops after the rows, stage 1, for hadk.comp).
    float norm = 1.0 / sqrt(float(n));
    for (uint o = t; o < n; o += 256) xs[o] = xs[o] * norm;
    sync();
  }

  if (pc.quant == 0u) {
    for (uint i = t; i < n; i += 256) work[i] = xs[i];
    return;
  }
  float a, d, lo, hi;
  if (pc.quant == 1u || pc.quant == 3u) {
    float g = 0.0;
    for (uint i = t; i < n; i += 256) g = max(g, abs(xs[i]));
    g = maxAll(g);
    a = 127.0; d = g + 1e-5; lo = -128.0; hi = 127.0;
    if (t == 0u) P.scale = g / 127.0;
    if (pc.quant == 3u) topHalf(n);  // after the absmax of the whole row
  } else {
    float s = 0.0;
    for (uint i = t; i < n; i += 256) s += abs(xs[i]);
    float b = sumAll(s) / float(n);
    a = sqrt(7.0); d = b + 1e-5; lo = -8.0; hi = 7.0;
    if (t == 0u) P.scale = b / sqrt(7.0);
  }
  int qsum = 0;
  for (uint w = t; w < pc.words; w += 256) {
    uint packed = 0u;
    for (uint j = 0; j < 4; j++) {
      uint i = 4 * w + j;
      int q = 0;
      if (i < n) q = int(clamp(roundEven((a * xs[i]) / d), lo, hi));
      qsum += q;
      packed |= uint(q & 255) << (8 * j);
    }
    xq[w] = packed;
  }
  qsum = sumAllInt(qsum);
  if (t == 0u) P.xsum = qsum;
}
