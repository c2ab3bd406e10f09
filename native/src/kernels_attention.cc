// Decode attention in float32 (kernels.h attendF32): the portable path (also NEON's) and the dispatcher.
#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace bitlens {

void attendF32Portable(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l) {
  for (size_t g = 0; g < ng; g++) {
    const float* qg = q + g * hd;
    float* sg = scores + g * n;
    float mx = -INFINITY;
    for (size_t s = 0; s < n; s++) {
      const float* ks = k + s * stride;
      float d = 0;
      for (size_t i = 0; i < hd; i++) d += qg[i] * ks[i];
      sg[s] = d;
      mx = std::max(mx, d);
    }
    float sum = 0;
    for (size_t s = 0; s < n; s++) sum += sg[s] = std::exp(sg[s] - mx);
    m[g] = mx;
    l[g] = sum;
  }
  std::fill(out, out + ng * hd, 0.f);
  // Position-major, so that each V row is read once for all the heads of the group.
  for (size_t s = 0; s < n; s++) {
    const float* vs = v + s * stride;
    for (size_t g = 0; g < ng; g++) {
      const float w = scores[g * n + s];
      float* og = out + g * hd;
      for (size_t i = 0; i < hd; i++) og[i] += w * vs[i];
    }
  }
}

void attendF32(Isa isa, const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
  if (isa == Isa::Avx512 && hd % 32 == 0) return attendF32Avx512(q, ng, k, v, stride, n, hd, scores, out, m, l);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
  if ((isa == Isa::Avx2 || isa == Isa::Avx512) && hd % 16 == 0) return attendF32Avx2(q, ng, k, v, stride, n, hd, scores, out, m, l);
#endif
  (void)isa;
  attendF32Portable(q, ng, k, v, stride, n, hd, scores, out, m, l);
}

}  // namespace bitlens
