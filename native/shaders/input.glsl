// Element i of a BitLinear's input before its norm, shared by prep.comp and hadp.comp (which
// declare `src`, the workgroup size and MAXHS). mode 0: src[i]; 1: relu(g)^2 * u; 2: silu(g) * u
// (g = src[i], u = src[n + i]); 3: the attention output of head i / hdim, merged from attn.comp's
// `splits` partial softmaxes (m, l, o) of that head, with the weights from mergeWeights(). The
// caller sets srcBase to its token row's offset in src first.

uint srcBase = 0u;

shared float mergeW[MAXHS];

// The weight of each partial, exp(m_s - M) / sum_s exp(m_s - M) l_s per head, once per workgroup
// (rather than per element: the elements then read their partials' o without waiting on exp).
void mergeWeights(uint heads, uint splits, uint hdim) {
  uint stride = 2 + hdim;
  for (uint h = gl_LocalInvocationID.x; h < heads; h += gl_WorkGroupSize.x) {
    uint b = h * splits * stride;
    float M = -1.0 / 0.0;
    for (uint s = 0; s < splits; s++) M = max(M, src[srcBase + b + s * stride]);
    float den = 0.0;
    for (uint s = 0; s < splits; s++) {
      float w = exp(src[srcBase + b + s * stride] - M);  // an empty split has m = -inf: weight 0
      mergeW[h * splits + s] = w;
      den += w * src[srcBase + b + s * stride + 1];
    }
    for (uint s = 0; s < splits; s++) mergeW[h * splits + s] /= den;
  }
  barrier();
}

float inputAt(uint i, uint n, uint mode, uint splits, uint hdim) {
  if (mode == 0u) return src[srcBase + i];
  if (mode == 3u) {
    uint h = i / hdim, j = i % hdim, stride = 2 + hdim;
    uint b = h * splits * stride;
    float x = 0.0;
    for (uint s = 0; s < splits; s++) x += mergeW[h * splits + s] * src[srcBase + b + s * stride + 2 + j];
    return x;
  }
  float g = src[srcBase + i], u = src[srcBase + n + i];
  if (mode == 1u) {
    float r = max(g, 0.0);
    return r * r * u;
  }
  return g / (1.0 + exp(-g)) * u;
}
