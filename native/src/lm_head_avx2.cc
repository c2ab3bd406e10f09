// AVX2 approximate-logit kernel of the screened LM head (lm_head.h), compiled with the flags of
// kernels_avx2.cc and called only when the CPU has them. Rows are padded to 64 int8 codes.
#include <immintrin.h>

#include "lm_head.h"

namespace bitlens {

void lmHeadApproxF32Avx2(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const int8_t* r = q + v * stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < stride; j += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(r + j + 1024), _MM_HINT_T0);
      a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + j)))), _mm256_loadu_ps(h + j), a0);
      a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + j + 8)))), _mm256_loadu_ps(h + j + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + j + 16)))), _mm256_loadu_ps(h + j + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + j + 24)))), _mm256_loadu_ps(h + j + 24), a3);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    out[v] = static_cast<double>(scale[v]) * static_cast<double>(_mm_cvtss_f32(t));
  }
}

}  // namespace bitlens
