// The input of a BitLinear without a Hadamard transform, in one workgroup: x = RMSNorm(src) * w
// (src: the residual stream, the attention output merged from its partials, or the GLU act(g) * u),
// then the per-token quantizer: int8 absmax, int4 absmean or a4.8's masked int8, written in
// gemv.comp's layout (codes biased by 128, two per uint32, plane-major; columns past n are code 0),
// with its scale and the sum of the codes in P. quant 0: x goes to work[0..n) as float (final
// norm). stage 1: src is hadk.comp's output (already normed and transformed): quantize only. The
// vector stays in shared memory; reductions are subgroup sums then one pass over the subgroups'
// partials (the same order every time). The order of operations follows docs/model-format.md
// (float32 here, float64 on the CPU).
// The includer declares NT (its workgroup size), MAXN, MAXHS and the buffers P, src, norms, work
// and xa (uvec4).

#include "input.glsl"


shared float xs[MAXN];
shared float redf[NT];
shared int redi[NT];
shared int sumi[NT];

float sumAll(float v) {
  v = subgroupAdd(v);
  barrier();  // the previous reduction's readers are done with redf
  if (subgroupElect()) redf[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r += redf[i];
  return r;
}

float maxAll(float v) {
  v = subgroupMax(v);
  barrier();
  if (subgroupElect()) redf[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r = max(r, redf[i]);
  return r;
}

int sumAllInt(int v) {
  v = subgroupAdd(v);
  if (subgroupElect()) sumi[gl_SubgroupID] = v;
  barrier();
  int r = 0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r += sumi[i];
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
    redi[t] = 0;  // the 256 bins of this pass (NT >= 256)
    barrier();
    for (uint i = t; i < n; i += NT) {
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
  uint chunk = (n + NT - 1) / NT, b = min(n, t * chunk), e = min(n, b + chunk);
  int eq = 0;
  for (uint i = b; i < e; i++) eq += floatBitsToUint(abs(xs[i])) == prefix ? 1 : 0;
  redi[t] = eq;
  barrier();
  if (t == 0u) {
    int run = 0;
    for (uint j = 0; j < NT; j++) {
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

// The site input of width n (push constants of prep.comp, which calls this as its whole main;
// gemv.comp calls it in its last workgroup for the next site).
void prepare(uint n, uint mode, uint normOff, uint quant, uint nv, float eps, uint splits, uint headDim, uint stage) {
  uint t = gl_LocalInvocationID.x;
  if (mode == 3u && stage == 0u) mergeWeights(n / headDim, splits, headDim);
  float ss = 0.0;
  for (uint i = t; i < n; i += NT) {
    float x = inputAt(i, n, stage == 1u ? 0u : mode, splits, headDim);
    xs[i] = x;
    ss += x * x;
  }
  if (stage == 0u) {
    ss = sumAll(ss);
    float inv = 1.0 / sqrt(ss / float(n) + eps);
    for (uint i = t; i < n; i += NT) xs[i] = xs[i] * inv * norms[normOff + i];
  }
  barrier();

  if (quant == 0u) {
    for (uint i = t; i < n; i += NT) work[i] = xs[i];
    return;
  }
  float a, d, lo, hi;
  if (quant == 1u || quant == 3u) {
    float g = 0.0;
    for (uint i = t; i < n; i += NT) g = max(g, abs(xs[i]));
    g = maxAll(g);
    a = 127.0; d = g + 1e-5; lo = -128.0; hi = 127.0;
    if (t == 0u) P.scale = g / 127.0;
    if (quant == 3u) topHalf(n);  // after the absmax of the whole row
  } else {
    float s = 0.0;
    for (uint i = t; i < n; i += NT) s += abs(xs[i]);
    float b = sumAll(s) / float(n);
    a = sqrt(7.0); d = b + 1e-5; lo = -8.0; hi = 7.0;
    if (t == 0u) P.scale = b / sqrt(7.0);
  }
  // One 16-column word k per iteration: 8 uint32 of biased code pairs (see gemv.comp).
  int qsum = 0;
  for (uint k = t; k < 4 * nv; k += NT) {
    uint bc[16];
    for (uint m = 0; m < 16; m++) {
      uint i = 16 * k + m;
      int q = 0;
      if (i < n) q = int(clamp(roundEven((a * xs[i]) / d), lo, hi));
      qsum += q;
      bc[m] = uint(q + 128);
    }
    uint v = k / 4, s = 2 * (k % 4);
    xa[s * nv + v] = uvec4(bc[8] | (bc[0] << 16), bc[9] | (bc[1] << 16), bc[10] | (bc[2] << 16), bc[11] | (bc[3] << 16));
    xa[(s + 1) * nv + v] = uvec4(bc[12] | (bc[4] << 16), bc[13] | (bc[5] << 16), bc[14] | (bc[6] << 16), bc[15] | (bc[7] << 16));
  }
  qsum = sumAllInt(qsum);
  if (t == 0u) P.xsum = qsum;
}
