// AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mf16c; called only
// when the CPU has them). VNNI's vpdpbusd multiplies the unsigned codes by the signed activations
// and adds four products straight into int32, so no int16 stage is needed.
#include <immintrin.h>

#include "kernels.h"

namespace bitlens {

// Distance of the software prefetch (bytes ahead in the row; past the row end it fetches the next rows).
constexpr size_t kPrefetchBytes = 2048;

// The four 2-bit fields of a byte are masked in place, not shifted down: field k contributes
// 4^k * code * x, so each field gets its own accumulator, divided by 4^k at the end (exact: every
// partial sum is a multiple of 4^k). This saves the shifts, which compete with vpdpbusd for port 0.
void ternaryMatmulInt8Avx512(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  const size_t nblk = m.colsPadded / 256;
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c), m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  // Row pairs outside, activation vectors inside: the two rows stay in L1 while every vector of
  // the batch (the caller keeps batches small enough for L2) passes over them.
  size_t r = r0;
  for (; r + 2 <= r1; r += 2) {
    const size_t ra = idx ? idx[r] : r, rb = idx ? idx[r + 1] : r + 1;
    const uint8_t* wa = m.row(ra);
    const uint8_t* wb = m.row(rb);
    for (size_t b = 0; b < batch; b++) {
      const int8_t* x = xq + b * m.colsPadded;
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (size_t k = 0; k < nblk; k++) {
        const int8_t* xb = x + k * 256;
        const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
        const __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
        // The hardware prefetcher alone keeps too few lines in flight for this loop (measured ~4 GB/s
        // from DRAM against ~20 GB/s from L3); fetch the weights a few blocks ahead.
        _mm_prefetch(reinterpret_cast<const char*>(wa + k * 64 + kPrefetchBytes), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(wb + k * 64 + kPrefetchBytes), _MM_HINT_T0);
        const __m512i va = _mm512_loadu_si512(wa + k * 64), vb = _mm512_loadu_si512(wb + k * 64);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(va, m0), x0);
        b0 = _mm512_dpbusd_epi32(b0, _mm512_and_si512(vb, m0), x0);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(va, m1), x1);
        b1 = _mm512_dpbusd_epi32(b1, _mm512_and_si512(vb, m1), x1);
        a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(va, m2), x2);
        b2 = _mm512_dpbusd_epi32(b2, _mm512_and_si512(vb, m2), x2);
        a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(va, m3), x3);
        b3 = _mm512_dpbusd_epi32(b3, _mm512_and_si512(vb, m3), x3);
      }
      // Every lane of field k's accumulator is a multiple of 4^k, so the shifts are exact per lane
      // and one horizontal sum per row suffices.
      const __m512i ta = _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_srai_epi32(a1, 2)), _mm512_add_epi32(_mm512_srai_epi32(a2, 4), _mm512_srai_epi32(a3, 6)));
      const __m512i tb = _mm512_add_epi32(_mm512_add_epi32(b0, _mm512_srai_epi32(b1, 2)), _mm512_add_epi32(_mm512_srai_epi32(b2, 4), _mm512_srai_epi32(b3, 6)));
      out[b * m.rows + ra] = _mm512_reduce_add_epi32(ta) - xsum[b];
      out[b * m.rows + rb] = _mm512_reduce_add_epi32(tb) - xsum[b];
    }
  }
  if (r < r1) ternaryMatmulInt8Portable(m, xq, xsum, batch, out, r, r1, idx);
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
