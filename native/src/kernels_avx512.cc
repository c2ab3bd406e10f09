// AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mf16c; called only
// when the CPU has them). VNNI's vpdpbusd multiplies the unsigned codes by the signed activations
// and adds four products straight into int32, so no int16 stage is needed.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "kernels_hadamard.h"
#include "kernels_rows.h"

namespace bitlens {

namespace {

// The four 2-bit fields of a byte are masked in place, not shifted down: field k contributes
// 4^k * code * x, so each field gets its own accumulator, divided by 4^k at the end (exact: every
// partial sum is a multiple of 4^k). This saves the shifts, which compete with vpdpbusd for port 0.
// R rows at once share the activation loads. `pf` (linear prefetch) or `pfRows` (one per row) may
// be null.
template <int R>
inline void dotRows(const uint8_t* const* w, const int8_t* x, size_t nblk, const uint8_t* pf, const uint8_t* const* pfRows, int32_t* dots) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0c), m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8(static_cast<char>(0xc0));
  __m512i acc[R][4];
  for (int i = 0; i < R; i++)
    for (int f = 0; f < 4; f++) acc[i][f] = _mm512_setzero_si512();
  for (size_t k = 0; k < nblk; k++) {
    const int8_t* xb = x + k * 256;
    const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
    const __m512i x2 = _mm512_loadu_si512(xb + 128), x3 = _mm512_loadu_si512(xb + 192);
    if (pf) {
      for (int i = 0; i < R; i++) _mm_prefetch(reinterpret_cast<const char*>(pf + (k * R + i) * 64), _MM_HINT_T0);
    } else if (pfRows) {
      for (int i = 0; i < R; i++) _mm_prefetch(reinterpret_cast<const char*>(pfRows[i] + k * 64), _MM_HINT_T0);
    }
    for (int i = 0; i < R; i++) {
      const __m512i v = _mm512_loadu_si512(w[i] + k * 64);
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], _mm512_and_si512(v, m0), x0);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], _mm512_and_si512(v, m1), x1);
      acc[i][2] = _mm512_dpbusd_epi32(acc[i][2], _mm512_and_si512(v, m2), x2);
      acc[i][3] = _mm512_dpbusd_epi32(acc[i][3], _mm512_and_si512(v, m3), x3);
    }
  }
  // Every lane of field k's accumulator is a multiple of 4^k, so the shifts are exact per lane
  // and one horizontal sum per row suffices.
  for (int i = 0; i < R; i++) {
    const __m512i t = _mm512_add_epi32(_mm512_add_epi32(acc[i][0], _mm512_srai_epi32(acc[i][1], 2)),
                                       _mm512_add_epi32(_mm512_srai_epi32(acc[i][2], 4), _mm512_srai_epi32(acc[i][3], 6)));
    dots[i] = _mm512_reduce_add_epi32(t);
  }
}

}  // namespace

void ternaryMatmulInt8Avx512(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  size_t r = r0;
  // Four rows for rows up to 1 KiB (2560 columns); wider rows (W_down's 6912 columns) streamed 8-20%
  // faster two at a time (measured on Zen 4), the four streams of a group then spanning 7 KB.
  if (m.rowBytes <= 1024)
    for (; r + 4 <= r1; r += 4) rowGroup<4, dotRows<4>, 256>(m, xq, xsum, batch, out, r, r1, idx);
  for (; r + 2 <= r1; r += 2) rowGroup<2, dotRows<2>, 256>(m, xq, xsum, batch, out, r, r1, idx);
  if (r < r1) rowGroup<1, dotRows<1>, 256>(m, xq, xsum, batch, out, r, r1, idx);
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

namespace {

// Stages 1, 2 and 4 of the butterflies (hadamard.ts' order: len = 1, 2, 4, ... with row[j] = a + b
// and row[j + len] = a - b) inside a register: s holds each lane's partner, and fma(x, c, s) with
// c = +1 on the lower lanes, -1 on the upper ones gives s + x (= a + b) and s - x (= a - b): the
// product by +-1 is exact, so these are the same single roundings (zero signs included).
inline __m512d butterflies8(__m512d x) {
  const __m512d c1 = _mm512_setr_pd(1, -1, 1, -1, 1, -1, 1, -1), c2 = _mm512_setr_pd(1, 1, -1, -1, 1, 1, -1, -1), c4 = _mm512_setr_pd(1, 1, 1, 1, -1, -1, -1, -1);
  // (The maskz forms: inlined here, the plain ones trip GCC 12's -Wuninitialized in its headers.)
  x = _mm512_fmadd_pd(x, c1, _mm512_maskz_permute_pd(0xff, x, 0x55));
  x = _mm512_fmadd_pd(x, c2, _mm512_maskz_permutex_pd(0xff, x, 0x4e));
  return _mm512_fmadd_pd(x, c4, _mm512_maskz_shuffle_f64x2(0xff, x, x, 0x4e));
}

// A row of 8 NV doubles in NV registers: every stage without a trip through memory.
template <int NV>
void butterfliesRegs(double* row) {
  __m512d x[NV];
  for (int v = 0; v < NV; v++) x[v] = butterflies8(_mm512_loadu_pd(row + 8 * v));
  for (int len = 1; len < NV; len <<= 1)
    for (int i = 0; i < NV; i += len << 1)
      for (int v = i; v < i + len; v++) {
        const __m512d a = x[v], b = x[v + len];
        x[v] = _mm512_add_pd(a, b);
        x[v + len] = _mm512_sub_pd(a, b);
      }
  for (int v = 0; v < NV; v++) _mm512_storeu_pd(row + 8 * v, x[v]);
}

// Butterflies of one row of P doubles.
void butterfliesF64(double* row, size_t P) {
  if (P == 64) return butterfliesRegs<8>(row);
  if (P == 128) return butterfliesRegs<16>(row);
  for (size_t j = 0; j < P; j += 8) _mm512_storeu_pd(row + j, butterflies8(_mm512_loadu_pd(row + j)));
  for (size_t len = 8; len < P; len <<= 1) {
    for (size_t i = 0; i < P; i += len << 1) {
      for (size_t j = i; j < i + len; j += 8) {
        const __m512d a = _mm512_loadu_pd(row + j), b = _mm512_loadu_pd(row + j + len);
        _mm512_storeu_pd(row + j, _mm512_add_pd(a, b));
        _mm512_storeu_pd(row + j + len, _mm512_sub_pd(a, b));
      }
    }
  }
}

}  // namespace

void hadamardRowsF64Avx512(double* x, size_t P, size_t K) {
  for (size_t r = 0; r < K; r++) butterfliesF64(x + r * P, P);
}

namespace {

// R rows of out by 32 columns in registers: out[i][j] = norm * (sum over l in order of h(i, l) *
// x[l][j] from +0), as columnStep. The first R - F rows add x ^ sign (FADD pipes), the last F rows
// fma(+-1, x, acc) (FMA pipes; the product by +-1 is exact, so the one rounding is the add's, zero
// signs included): two pipe pairs share the adds.
struct ColumnsAvx512 {
  static constexpr size_t kWidth = 32;
  static constexpr int kMaxRows = 6;
  template <int R, int F, bool Chain>
  static void block(const int64_t* signs, size_t K, size_t P, double norm, const double* x, double* out, size_t i, size_t j0, AbsSumChain* chain) {
    const __m512d vn = _mm512_set1_pd(norm);
    const __m512i one = _mm512_castpd_si512(_mm512_set1_pd(1.0));
    __m512d a[R][4];
    for (int r = 0; r < R; r++)
      for (int v = 0; v < 4; v++) a[r][v] = _mm512_setzero_pd();
    const int64_t* s = signs + i * K;
    // The chain in locals (kept in registers: no store to out in the loop).
    const double* terms = Chain ? chain->p : nullptr;
    const size_t n = Chain ? chain->n : 0, per = Chain ? chain->per : 0;
    double sum = Chain ? chain->sum : 0;
    size_t c = 0;
    const double* xl = x + j0;
    for (size_t l = 0; l < K; l++, xl += P) {
      __m512d xv[4];
      for (int v = 0; v < 4; v++) xv[v] = _mm512_loadu_pd(xl + 8 * v);
      for (int r = 0; r < R; r++) {
        // (Integer xor / or: the _pd forms need AVX512DQ, which the build does not ask for.)
        const __m512i sv = _mm512_set1_epi64(s[r * K + l]);
        if (r >= R - F) {
          const __m512d c = _mm512_castsi512_pd(_mm512_or_si512(sv, one));
          for (int v = 0; v < 4; v++) a[r][v] = _mm512_fmadd_pd(c, xv[v], a[r][v]);
        } else {
          for (int v = 0; v < 4; v++) a[r][v] = _mm512_add_pd(a[r][v], _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(xv[v]), sv)));
        }
      }
      if constexpr (Chain)
        for (const size_t e = std::min(c + per, n); c < e; c++) sum += std::fabs(terms[c]);
    }
    if constexpr (Chain) {
      for (; c < n; c++) sum += std::fabs(terms[c]);
      chain->sum = sum;
    }
    for (int r = 0; r < R; r++)
      for (int v = 0; v < 4; v++) _mm512_storeu_pd(out + (i + r) * P + j0 + 8 * v, _mm512_mul_pd(a[r][v], vn));
  }
};

}  // namespace

// 1.6-2x faster than the former 2 rows by 32 columns, row after row (Zen 4).
void hadamardColumnsF64Avx512(const HadamardPlan& plan, bool inverse, double norm, const double* x, double* out, size_t i0, size_t i1, double* absSum) {
  hadamardColumns<ColumnsAvx512>(plan, inverse, norm, x, out, i0, i1, absSum);
}

double absMaxAvx512(const double* x, size_t n) {
  __m512d m = _mm512_setzero_pd();
  for (size_t i = 0; i < n; i += 8) m = _mm512_max_pd(m, _mm512_abs_pd(_mm512_loadu_pd(x + i)));
  // (Not _mm512_reduce_max_pd: GCC 12 warns inside it.)
  alignas(64) double t[8];
  _mm512_store_pd(t, m);
  return *std::max_element(t, t + 8);
}

// A block of 256 bytes (column 4j + f at byte 4j + f) to four planes of 64 (column 4j + f at byte
// 64 f + j): in each 128-bit lane a byte shuffle groups the four columns of each field into a dword,
// a 4 x 4 dword transpose across the four registers gathers each field, and a dword permute puts the
// lanes in order. The sum: unsigned byte sums of x + 128 (vpsadbw), less 128 per byte.
int32_t permuteBlocksAvx512(const int8_t* x, size_t blocks, int8_t* out) {
  // (Constants and the final sum spelled out: GCC 12's broadcast / reduce helpers warn when inlined.)
  const __m512i shuf = _mm512_setr_epi32(0x0c080400, 0x0d090501, 0x0e0a0602, 0x0f0b0703, 0x0c080400, 0x0d090501, 0x0e0a0602, 0x0f0b0703,
                                         0x0c080400, 0x0d090501, 0x0e0a0602, 0x0f0b0703, 0x0c080400, 0x0d090501, 0x0e0a0602, 0x0f0b0703);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80)), zero = _mm512_setzero_si512();
  __m512i sums = _mm512_setzero_si512();
  for (size_t b = 0; b < blocks; b++, x += 256, out += 256) {
    __m512i a[4];
    for (int k = 0; k < 4; k++) {
      const __m512i v = _mm512_loadu_si512(x + 64 * k);
      sums = _mm512_add_epi64(sums, _mm512_sad_epu8(_mm512_xor_si512(v, bias), zero));
      a[k] = _mm512_shuffle_epi8(v, shuf);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
    _mm512_storeu_si512(out, _mm512_permutexvar_epi32(order, _mm512_unpacklo_epi64(t0, t2)));
    _mm512_storeu_si512(out + 64, _mm512_permutexvar_epi32(order, _mm512_unpackhi_epi64(t0, t2)));
    _mm512_storeu_si512(out + 128, _mm512_permutexvar_epi32(order, _mm512_unpacklo_epi64(t1, t3)));
    _mm512_storeu_si512(out + 192, _mm512_permutexvar_epi32(order, _mm512_unpackhi_epi64(t1, t3)));
  }
  alignas(64) int64_t t[8];
  _mm512_store_si512(t, sums);
  return static_cast<int32_t>(t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7] - static_cast<int64_t>(128 * 256 * blocks));
}

void scaleInt32Avx512(const int32_t* a, size_t n, double s, double* y) {
  const __m512d vs = _mm512_set1_pd(s);
  for (size_t i = 0; i < n; i += 8) _mm512_storeu_pd(y + i, _mm512_mul_pd(_mm512_cvtepi32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i))), vs));
}

void normScaleAvx512(const double* x, size_t n, double inv, const float* w, double* out) {
  const __m512d vi = _mm512_set1_pd(inv);
  for (size_t i = 0; i < n; i += 8) _mm512_storeu_pd(out + i, _mm512_mul_pd(_mm512_mul_pd(_mm512_loadu_pd(x + i), vi), _mm512_cvtps_pd(_mm256_loadu_ps(w + i))));
}

void relu2GluAvx512(const double* g, const double* u, size_t n, double* out) {
  for (size_t i = 0; i < n; i += 8) {
    const __m512i b = _mm512_castpd_si512(_mm512_loadu_pd(g + i));
    const __m512d r = _mm512_castsi512_pd(_mm512_andnot_si512(_mm512_srai_epi64(b, 63), b));
    _mm512_storeu_pd(out + i, _mm512_mul_pd(_mm512_mul_pd(r, r), _mm512_loadu_pd(u + i)));
  }
}

size_t countPositiveAvx512(const double* x, size_t n) {
  const __m512d zero = _mm512_setzero_pd();
  size_t c = 0;
  for (size_t i = 0; i < n; i += 8) c += static_cast<size_t>(__builtin_popcount(_mm512_cmp_pd_mask(_mm512_loadu_pd(x + i), zero, _CMP_GT_OQ)));
  return c;
}

// The scalar steps of quant.cc's roundClip per lane: multiply, divide, round half to even, clamp.
void roundClipAvx512(const double* x, size_t n, double a, double d, double lo, double hi, int8_t* q) {
  const __m512d va = _mm512_set1_pd(a), vd = _mm512_set1_pd(d), vlo = _mm512_set1_pd(lo), vhi = _mm512_set1_pd(hi);
  for (size_t i = 0; i < n; i += 8) {
    const __m512d v = _mm512_div_pd(_mm512_mul_pd(va, _mm512_loadu_pd(x + i)), vd);
    const __m512d r = _mm512_min_pd(_mm512_max_pd(_mm512_roundscale_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vlo), vhi);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(r)));
  }
}

}  // namespace bitlens

namespace bitlens {
namespace {

// As in kernels_avx2.cc (same polynomial): e^x for x <= 0, 2^n applied by scalef.
inline __m512 expNonPositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(y, n);
}

// The sums of a0..a7 as one vector: halves folded, then the AVX2 horizontal-add transpose.
inline __m256 sum8(const __m512* a) {
  __m256 f[8];
  for (int r = 0; r < 8; r++) f[r] = _mm256_add_ps(_mm512_castps512_ps256(a[r]), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[r]), 1)));
  const __m256 t0 = _mm256_hadd_ps(f[0], f[1]), t1 = _mm256_hadd_ps(f[2], f[3]), t2 = _mm256_hadd_ps(f[4], f[5]), t3 = _mm256_hadd_ps(f[6], f[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// Prefetching as in kernels_avx2.cc (strided rows, 64 positions ahead into L2).
constexpr size_t kAhead = 64;
inline void prefetchRows(const float* row, size_t count, size_t stride, size_t hd) {
  for (size_t r = 0; r < count; r++, row += stride)
    for (size_t i = 0; i < hd; i += 16) _mm_prefetch(reinterpret_cast<const char*>(row + i), _MM_HINT_T1);
}

// out[g] = sum_s p[g][s] v_s for G heads, tiles of 8 positions, 32 columns in 2 G registers.
template <int G>
void accumulateV(const float* p, size_t n, const float* v, size_t stride, size_t hd, float* out) {
  std::fill(out, out + G * hd, 0.f);
  for (size_t s0 = 0; s0 < n; s0 += 8) {
    const size_t s1 = std::min(n, s0 + 8);
    prefetchRows(v + (s0 + kAhead) * stride, 8, stride, hd);
    for (size_t c = 0; c < hd; c += 32) {
      __m512 acc[G][2];
      for (int g = 0; g < G; g++) {
        acc[g][0] = _mm512_loadu_ps(out + g * hd + c);
        acc[g][1] = _mm512_loadu_ps(out + g * hd + c + 16);
      }
      const float* vs = v + s0 * stride + c;
      for (size_t s = s0; s < s1; s++, vs += stride) {
        const __m512 v0 = _mm512_loadu_ps(vs), v1 = _mm512_loadu_ps(vs + 16);
        for (int g = 0; g < G; g++) {
          const __m512 w = _mm512_set1_ps(p[g * n + s]);
          acc[g][0] = _mm512_fmadd_ps(w, v0, acc[g][0]);
          acc[g][1] = _mm512_fmadd_ps(w, v1, acc[g][1]);
        }
      }
      for (int g = 0; g < G; g++) {
        _mm512_storeu_ps(out + g * hd + c, acc[g][0]);
        _mm512_storeu_ps(out + g * hd + c + 16, acc[g][1]);
      }
    }
  }
}

}  // namespace

void attendF32Avx512(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l) {
  size_t s0 = 0;
  for (; s0 + 8 <= n; s0 += 8) {
    const float* kr = k + s0 * stride;
    prefetchRows(kr + kAhead * stride, 8, stride, hd);
    prefetchRows(v + (s0 + kAhead) * stride, 8, stride, hd);
    for (size_t g = 0; g < ng; g++) {
      const float* qg = q + g * hd;
      __m512 acc[8];
      for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_ps();
      for (size_t i = 0; i < hd; i += 16) {
        const __m512 qv = _mm512_loadu_ps(qg + i);
        for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(kr + r * stride + i), acc[r]);
      }
      _mm256_storeu_ps(scores + g * n + s0, sum8(acc));
    }
  }
  for (; s0 < n; s0++)
    for (size_t g = 0; g < ng; g++) {
      __m512 acc = _mm512_setzero_ps();
      for (size_t i = 0; i < hd; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + g * hd + i), _mm512_loadu_ps(k + s0 * stride + i), acc);
      scores[g * n + s0] = _mm512_reduce_add_ps(acc);
    }
  // Softmax numerators in place; the tail of each head through a mask.
  for (size_t g = 0; g < ng; g++) {
    float* sg = scores + g * n;
    __m512 vmx = _mm512_set1_ps(-INFINITY);
    size_t s = 0;
    for (; s + 16 <= n; s += 16) vmx = _mm512_max_ps(vmx, _mm512_loadu_ps(sg + s));
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - s)) - 1);
    vmx = _mm512_mask_max_ps(vmx, tail, vmx, _mm512_maskz_loadu_ps(tail, sg + s));
    const float mx = _mm512_reduce_max_ps(vmx);
    const __m512 vm = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    for (s = 0; s + 16 <= n; s += 16) {
      const __m512 e = expNonPositive(_mm512_sub_ps(_mm512_loadu_ps(sg + s), vm));
      _mm512_storeu_ps(sg + s, e);
      sum = _mm512_add_ps(sum, e);
    }
    const __m512 e = expNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, sg + s), vm));
    _mm512_mask_storeu_ps(sg + s, tail, e);
    sum = _mm512_mask_add_ps(sum, tail, sum, e);
    m[g] = mx;
    l[g] = _mm512_reduce_add_ps(sum);
  }
  size_t g = 0;
  for (; g + 4 <= ng; g += 4) accumulateV<4>(scores + g * n, n, v, stride, hd, out + g * hd);
  switch (ng - g) {
    case 3: accumulateV<3>(scores + g * n, n, v, stride, hd, out + g * hd); break;
    case 2: accumulateV<2>(scores + g * n, n, v, stride, hd, out + g * hd); break;
    case 1: accumulateV<1>(scores + g * n, n, v, stride, hd, out + g * hd); break;
    default: break;
  }
}

}  // namespace bitlens
