// AVX-512 approximate-logit kernels of the screened LM head (lm_head.h), compiled with the flags of
// kernels_avx512.cc and called only when the CPU has them. Rows are padded to 64 int8 codes.
#include <immintrin.h>

#include <cmath>

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

// One f16 row as float64 (exact), its absmax, and whether every value is finite (exponent != 31).
void lmHeadRowF16Avx512(const uint16_t* w16, size_t cols, double* w, double& absMax, bool& finite) {
  __m512 vmax = _mm512_setzero_ps();
  const __m256i expMask = _mm256_set1_epi16(0x7c00);
  __m256i special = _mm256_setzero_si256();
  size_t j = 0;
  for (; j + 16 <= cols; j += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w16 + j));
    special = _mm256_or_si256(special, _mm256_cmpeq_epi16(_mm256_and_si256(h, expMask), expMask));
    const __m512 f = _mm512_cvtph_ps(h);
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(f));
    _mm512_storeu_pd(w + j, _mm512_cvtps_pd(_mm512_castps512_ps256(f)));
    _mm512_storeu_pd(w + j + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
  }
  alignas(64) float ml[16];
  _mm512_store_ps(ml, vmax);
  double A = absMax;
  for (int i = 0; i < 16; i++) A = ml[i] > A ? ml[i] : A;
  bool ok = finite && _mm256_testz_si256(special, special);
  for (; j < cols; j++) {
    w[j] = halfToFloat(w16[j]);
    ok = ok && std::isfinite(w[j]);
    A = std::fabs(w[j]) > A ? std::fabs(w[j]) : A;
  }
  absMax = A;
  finite = ok;
}

// The int8 copy's codes, eight float64 lanes at a time: division, round half to even (roundscale),
// clamp, error and sums exactly as lmHeadQuantRowPortable (same IEEE operations; the tail is its).
void lmHeadQuantRowAvx512(const double* w, size_t cols, double s, int8_t* q, double& e, int64_t& absSum, int64_t& sum) {
  const __m512d vs = _mm512_set1_pd(s), lo = _mm512_set1_pd(-127), hi = _mm512_set1_pd(127);
  __m512d ve = _mm512_set1_pd(e);
  __m512i va = _mm512_setzero_si512(), vq = va;
  size_t j = 0;
  for (; j + 8 <= cols; j += 8) {
    const __m512d x = _mm512_loadu_pd(w + j);
    const __m512d r = _mm512_roundscale_pd(_mm512_div_pd(x, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d qd = _mm512_min_pd(hi, _mm512_max_pd(lo, r));
    ve = _mm512_max_pd(ve, _mm512_abs_pd(_mm512_sub_pd(x, _mm512_mul_pd(vs, qd))));
    const __m256i qi = _mm512_cvtpd_epi32(qd);  // integers: exact
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + j), _mm256_cvtepi32_epi8(qi));
    const __m512i q64 = _mm512_cvtepi32_epi64(qi);
    va = _mm512_add_epi64(va, _mm512_abs_epi64(q64));
    vq = _mm512_add_epi64(vq, q64);
  }
  // Lane by lane (GCC 12 warns on the reduce intrinsics' headers under -Wall).
  alignas(64) double el[8];
  alignas(64) int64_t al[8], ql[8];
  _mm512_store_pd(el, ve);
  _mm512_store_si512(al, va);
  _mm512_store_si512(ql, vq);
  for (int i = 0; i < 8; i++) {
    e = el[i] > e ? el[i] : e;
    absSum += al[i];
    sum += ql[i];
  }
  if (j < cols) lmHeadQuantRowPortable(w + j, cols - j, s, q + j, e, absSum, sum);
}

}  // namespace bitlens
