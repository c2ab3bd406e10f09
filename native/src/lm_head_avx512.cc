// AVX-512 approximate-logit kernels of the screened LM head (lm_head.h), compiled with the flags of
// kernels_avx512.cc and called only when the CPU has them. Rows are padded to 64 int8 codes.
#include <immintrin.h>

#include "lm_head.h"

namespace bitlens {

// int8 codes -> int32 -> float32, FMA with h; four accumulators hide the FMA latency.
void lmHeadApproxF32Avx512(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const int8_t* r = q + v * stride;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < stride; j += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(r + j + 1024), _MM_HINT_T0);
      a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + j)))), _mm512_loadu_ps(h + j), a0);
      a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + j + 16)))), _mm512_loadu_ps(h + j + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + j + 32)))), _mm512_loadu_ps(h + j + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + j + 48)))), _mm512_loadu_ps(h + j + 48), a3);
    }
    out[v] = static_cast<double>(scale[v]) * static_cast<double>(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))));
  }
}

// VNNI: vpdpbusd multiplies unsigned activation digits by the signed codes and adds four products
// into each int32 lane (exact: |sum| <= d * 255 * 127). Two digits of h share each load of a row.
// One row at a time: interleaving four rows measured 1.7x slower (four DRAM streams per core).
void lmHeadApproxInt8Avx512(const int8_t* q, size_t stride, const uint8_t* u, int32_t* acc, size_t v0, size_t v1) {
  const uint8_t* u2 = u + stride;
  for (size_t v = v0; v < v1; v++) {
    const int8_t* r = q + v * stride;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
    size_t j = 0;
    for (; j + 128 <= stride; j += 128) {
      _mm_prefetch(reinterpret_cast<const char*>(r + j + 512), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(r + j + 576), _MM_HINT_T0);
      const __m512i w0 = _mm512_loadu_si512(r + j), w1 = _mm512_loadu_si512(r + j + 64);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + j), w0);
      a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(u + j + 64), w1);
      b0 = _mm512_dpbusd_epi32(b0, _mm512_loadu_si512(u2 + j), w0);
      b1 = _mm512_dpbusd_epi32(b1, _mm512_loadu_si512(u2 + j + 64), w1);
    }
    if (j < stride) {
      const __m512i w0 = _mm512_loadu_si512(r + j);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + j), w0);
      b0 = _mm512_dpbusd_epi32(b0, _mm512_loadu_si512(u2 + j), w0);
    }
    acc[2 * (v - v0)] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
    acc[2 * (v - v0) + 1] = _mm512_reduce_add_epi32(_mm512_add_epi32(b0, b1));
  }
}

}  // namespace bitlens
