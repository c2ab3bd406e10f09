// AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mf16c; called only
// when the CPU has them). VNNI's vpdpbusd multiplies the unsigned codes by the signed activations
// and adds four products straight into int32, so no int16 stage is needed.
#include <immintrin.h>

#include "kernels.h"

namespace bitlens {

void ternaryMatmulInt8Avx512(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1) {
  const size_t nblk = m.colsPadded / 256;
  const __m512i mask = _mm512_set1_epi8(3);
  for (size_t b = 0; b < batch; b++) {
    const int8_t* x = xq + b * m.colsPadded;
    size_t r = r0;
    for (; r + 2 <= r1; r += 2) {
      const uint8_t* wa = m.row(r);
      const uint8_t* wb = m.row(r + 1);
      __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512(), b0 = _mm512_setzero_si512(), b1 = _mm512_setzero_si512();
      for (size_t k = 0; k < nblk; k++) {
        const int8_t* xb = x + k * 256;
        const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
        const __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
        const __m512i va = _mm512_load_si512(wa + k * 64), vb = _mm512_load_si512(wb + k * 64);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(va, mask), x0);
        b0 = _mm512_dpbusd_epi32(b0, _mm512_and_si512(vb, mask), x0);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(va, 2), mask), x1);
        b1 = _mm512_dpbusd_epi32(b1, _mm512_and_si512(_mm512_srli_epi16(vb, 2), mask), x1);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(_mm512_srli_epi16(va, 4), mask), x2);
        b0 = _mm512_dpbusd_epi32(b0, _mm512_and_si512(_mm512_srli_epi16(vb, 4), mask), x2);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(va, 6), mask), x3);
        b1 = _mm512_dpbusd_epi32(b1, _mm512_and_si512(_mm512_srli_epi16(vb, 6), mask), x3);
      }
      out[b * m.rows + r] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1)) - xsum[b];
      out[b * m.rows + r + 1] = _mm512_reduce_add_epi32(_mm512_add_epi32(b0, b1)) - xsum[b];
    }
    if (r < r1) ternaryMatmulInt8Portable(m, x, xsum + b, 1, out + b * m.rows, r, r1);
  }
}

void lmHeadF16Avx512(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const uint16_t* e = e16 + v * d;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {
      a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(e + i))), _mm512_loadu_ps(h + i), a0);
      a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(e + i + 16))), _mm512_loadu_ps(h + i + 16), a1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < d; i++) s += h[i] * halfToFloat(e[i]);
    out[v] = s;
  }
}

}  // namespace bitlens
