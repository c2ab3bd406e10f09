// AVX2 kernels (compiled with -mavx2 -mfma -mf16c; called only when the CPU has them).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "kernels_hadamard.h"
#include "kernels_rows.h"

namespace bitlens {
namespace {

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Up to 8 blocks of int16 partial sums (|each| <= 4 * 2 * 2 * 128 = 2048) before widening.
constexpr size_t kInt16Blocks = 8;

// R rows at once share the activation loads (R = 2 keeps the accumulators in the 16 registers).
template <int R>
inline void dotRows(const uint8_t* const* w, const int8_t* x, size_t nblk, const uint8_t* pf, const uint8_t* const* pfRows, int32_t* dots) {
  const __m256i mask = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  __m256i acc[R];
  for (int i = 0; i < R; i++) acc[i] = _mm256_setzero_si256();
  for (size_t k0 = 0; k0 < nblk; k0 += kInt16Blocks) {
    const size_t k1 = k0 + kInt16Blocks < nblk ? k0 + kInt16Blocks : nblk;
    __m256i part[R];
    for (int i = 0; i < R; i++) part[i] = _mm256_setzero_si256();
    for (size_t k = k0; k < k1; k++) {
      const int8_t* xb = x + k * 128;
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 32));
      const __m256i x2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 64));
      const __m256i x3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 96));
      // A block is 32 B per row: R / 2 lines per block, linear; by row, a line every other block.
      if (pf) {
        if (R == 1) {
          if (!(k & 1)) _mm_prefetch(reinterpret_cast<const char*>(pf + k * 32), _MM_HINT_T0);
        } else {
          for (int i = 0; i < R / 2; i++) _mm_prefetch(reinterpret_cast<const char*>(pf + (k * R / 2 + i) * 64), _MM_HINT_T0);
        }
      } else if (pfRows && !(k & 1)) {
        for (int i = 0; i < R; i++) _mm_prefetch(reinterpret_cast<const char*>(pfRows[i] + k * 32), _MM_HINT_T0);
      }
      for (int i = 0; i < R; i++) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i] + k * 32));
        __m256i p = _mm256_maddubs_epi16(_mm256_and_si256(v, mask), x0);
        p = _mm256_add_epi16(p, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 2), mask), x1));
        p = _mm256_add_epi16(p, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask), x2));
        p = _mm256_add_epi16(p, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 6), mask), x3));
        part[i] = _mm256_add_epi16(part[i], p);
      }
    }
    for (int i = 0; i < R; i++) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(part[i], ones));
  }
  for (int i = 0; i < R; i++) dots[i] = hsum(acc[i]);
}

}  // namespace

void ternaryMatmulInt8Avx2(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  size_t r = r0;
  for (; r + 2 <= r1; r += 2) rowGroup<2, dotRows<2>, 128>(m, xq, xsum, batch, out, r, r1, idx);
  if (r < r1) rowGroup<1, dotRows<1>, 128>(m, xq, xsum, batch, out, r, r1, idx);
}

void lmHeadF16Avx2(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const uint16_t* e = e16 + v * d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
      a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e + i))), _mm256_loadu_ps(h + i), a0);
      a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e + i + 8))), _mm256_loadu_ps(h + i + 8), a1);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += h[i] * halfToFloat(e[i]);
    out[v] = s;
  }
}

void lmHeadF32Avx2(const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const float* e = e32 + v * d;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(e + i), _mm256_loadu_ps(h + i), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(e + i + 8), _mm256_loadu_ps(h + i + 8), a1);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += h[i] * e[i];
    out[v] = s;
  }
}

namespace {

// The sums of a0..a7 as one vector (a transpose by horizontal adds instead of 8 separate reductions).
inline __m256 sum8(const __m256* a) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]), t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// e^x for x <= 0 (Cephes expf: 2^n times a degree-7 polynomial on |r| <= ln2/2; relative error
// at most 1.2e-7, about 1 ulp, measured against float64 exp on a dense sweep of [-87, 0]). Inputs
// below -87.3 (where e^x would leave the normal range) give e^-87.3 ~ 1e-38 instead of a denormal:
// next to the maximum's e^0 = 1 both vanish from a float32 sum.
inline __m256 expNonPositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// Rows of the cache are strided (the other KV heads lie between them), which the hardware
// prefetchers follow poorly: at 512 positions (78 MB of float32 cache per token on the 2B shape)
// the kernel ran at a third of the sequential read bandwidth. Each block of 8 positions asks for
// the K and V rows kAhead positions further on into L2 (measured best of 16..128, T0..T2; ~1.5x).
// Prefetches past the end of the cache are harmless (they never fault).
constexpr size_t kAhead = 64;
inline void prefetchRows(const float* row, size_t count, size_t stride, size_t hd) {
  for (size_t r = 0; r < count; r++, row += stride)
    for (size_t i = 0; i < hd; i += 16) _mm_prefetch(reinterpret_cast<const char*>(row + i), _MM_HINT_T1);
}

// out[g] = sum_s p[g][s] v_s for G heads, in tiles of 8 positions (their V rows stay in L1 while
// 16 columns at a time are accumulated in 2 G registers, so each V load serves every head).
template <int G>
void accumulateV(const float* p, size_t n, const float* v, size_t stride, size_t hd, float* out) {
  std::fill(out, out + G * hd, 0.f);
  for (size_t s0 = 0; s0 < n; s0 += 8) {
    const size_t s1 = std::min(n, s0 + 8);
    prefetchRows(v + (s0 + kAhead) * stride, 8, stride, hd);
    for (size_t c = 0; c < hd; c += 16) {
      __m256 acc[G][2];
      for (int g = 0; g < G; g++) {
        acc[g][0] = _mm256_loadu_ps(out + g * hd + c);
        acc[g][1] = _mm256_loadu_ps(out + g * hd + c + 8);
      }
      const float* vs = v + s0 * stride + c;
      for (size_t s = s0; s < s1; s++, vs += stride) {
        const __m256 v0 = _mm256_loadu_ps(vs), v1 = _mm256_loadu_ps(vs + 8);
        for (int g = 0; g < G; g++) {
          const __m256 w = _mm256_broadcast_ss(p + g * n + s);
          acc[g][0] = _mm256_fmadd_ps(w, v0, acc[g][0]);
          acc[g][1] = _mm256_fmadd_ps(w, v1, acc[g][1]);
        }
      }
      for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(out + g * hd + c, acc[g][0]);
        _mm256_storeu_ps(out + g * hd + c + 8, acc[g][1]);
      }
    }
  }
}

}  // namespace

void attendF32Avx2(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l) {
  // Scores, 8 positions at a time: their K rows stay in L1 for all the heads of the group.
  size_t s0 = 0;
  for (; s0 + 8 <= n; s0 += 8) {
    const float* kr = k + s0 * stride;
    prefetchRows(kr + kAhead * stride, 8, stride, hd);
    prefetchRows(v + (s0 + kAhead) * stride, 8, stride, hd);  // for accumulateV, from L2
    for (size_t g = 0; g < ng; g++) {
      const float* qg = q + g * hd;
      __m256 acc[8];
      for (int r = 0; r < 8; r++) acc[r] = _mm256_setzero_ps();
      for (size_t i = 0; i < hd; i += 8) {
        const __m256 qv = _mm256_loadu_ps(qg + i);
        for (int r = 0; r < 8; r++) acc[r] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kr + r * stride + i), acc[r]);
      }
      _mm256_storeu_ps(scores + g * n + s0, sum8(acc));
    }
  }
  for (; s0 < n; s0++)
    for (size_t g = 0; g < ng; g++) {
      __m256 acc = _mm256_setzero_ps();
      for (size_t i = 0; i < hd; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + g * hd + i), _mm256_loadu_ps(k + s0 * stride + i), acc);
      scores[g * n + s0] = hsum(acc);
    }
  // Softmax numerators in place, with their maximum and sum per head.
  for (size_t g = 0; g < ng; g++) {
    float* sg = scores + g * n;
    __m256 vmx = _mm256_set1_ps(-INFINITY);
    size_t s = 0;
    for (; s + 8 <= n; s += 8) vmx = _mm256_max_ps(vmx, _mm256_loadu_ps(sg + s));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmx), _mm256_extractf128_ps(vmx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float mx = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    for (; s < n; s++) mx = std::max(mx, sg[s]);
    const __m256 vm = _mm256_set1_ps(mx);
    __m256 sum = _mm256_setzero_ps();
    for (s = 0; s + 8 <= n; s += 8) {
      const __m256 e = expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(sg + s), vm));
      _mm256_storeu_ps(sg + s, e);
      sum = _mm256_add_ps(sum, e);
    }
    float tail = 0;
    for (; s < n; s++) tail += sg[s] = std::exp(sg[s] - mx);
    m[g] = mx;
    l[g] = hsum(sum) + tail;
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

namespace {

// Butterflies of one row as in kernels_avx512.cc (stages 1 and 2 inside a register).
void butterfliesF64(double* row, size_t P) {
  for (size_t j = 0; j < P; j += 4) {
    __m256d x = _mm256_loadu_pd(row + j);
    __m256d s = _mm256_permute_pd(x, 0x5);
    x = _mm256_blend_pd(_mm256_add_pd(x, s), _mm256_sub_pd(s, x), 0xa);
    s = _mm256_permute2f128_pd(x, x, 0x01);
    x = _mm256_blend_pd(_mm256_add_pd(x, s), _mm256_sub_pd(s, x), 0xc);
    _mm256_storeu_pd(row + j, x);
  }
  for (size_t len = 4; len < P; len <<= 1) {
    for (size_t i = 0; i < P; i += len << 1) {
      for (size_t j = i; j < i + len; j += 4) {
        const __m256d a = _mm256_loadu_pd(row + j), b = _mm256_loadu_pd(row + j + len);
        _mm256_storeu_pd(row + j, _mm256_add_pd(a, b));
        _mm256_storeu_pd(row + j + len, _mm256_sub_pd(a, b));
      }
    }
  }
}

}  // namespace

void hadamardRowsF64Avx2(double* x, size_t P, size_t K) {
  for (size_t r = 0; r < K; r++) butterfliesF64(x + r * P, P);
}

namespace {

// As kernels_avx512.cc's ColumnsAvx512, in 16 registers: up to 4 rows by 8 columns.
struct ColumnsAvx2 {
  static constexpr size_t kWidth = 8;
  static constexpr int kMaxRows = 4;
  template <int R, int F, bool Chain>
  static void block(const int64_t* signs, size_t K, size_t P, double norm, const double* x, double* out, size_t i, size_t j0, AbsSumChain* chain) {
    const __m256d vn = _mm256_set1_pd(norm), one = _mm256_set1_pd(1.0);
    __m256d a[R][2];
    for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm256_setzero_pd();
    const int64_t* s = signs + i * K;
    // The chain in locals (kept in registers: no store to out in the loop).
    const double* terms = Chain ? chain->p : nullptr;
    const size_t n = Chain ? chain->n : 0, per = Chain ? chain->per : 0;
    double sum = Chain ? chain->sum : 0;
    size_t c = 0;
    const double* xl = x + j0;
    for (size_t l = 0; l < K; l++, xl += P) {
      const __m256d x0 = _mm256_loadu_pd(xl), x1 = _mm256_loadu_pd(xl + 4);
      for (int r = 0; r < R; r++) {
        const __m256d sv = _mm256_castsi256_pd(_mm256_set1_epi64x(s[r * K + l]));
        if (r >= R - F) {
          const __m256d c = _mm256_or_pd(sv, one);
          a[r][0] = _mm256_fmadd_pd(c, x0, a[r][0]);
          a[r][1] = _mm256_fmadd_pd(c, x1, a[r][1]);
        } else {
          a[r][0] = _mm256_add_pd(a[r][0], _mm256_xor_pd(x0, sv));
          a[r][1] = _mm256_add_pd(a[r][1], _mm256_xor_pd(x1, sv));
        }
      }
      if constexpr (Chain)
        for (const size_t e = std::min(c + per, n); c < e; c++) sum += std::fabs(terms[c]);
    }
    if constexpr (Chain) {
      for (; c < n; c++) sum += std::fabs(terms[c]);
      chain->sum = sum;
    }
    for (int r = 0; r < R; r++) {
      _mm256_storeu_pd(out + (i + r) * P + j0, _mm256_mul_pd(a[r][0], vn));
      _mm256_storeu_pd(out + (i + r) * P + j0 + 4, _mm256_mul_pd(a[r][1], vn));
    }
  }
};

}  // namespace

void hadamardColumnsF64Avx2(const HadamardPlan& plan, bool inverse, double norm, const double* x, double* out, size_t i0, size_t i1, double* absSum) {
  hadamardColumns<ColumnsAvx2>(plan, inverse, norm, x, out, i0, i1, absSum);
}


double absMaxAvx2(const double* x, size_t n) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d m = _mm256_setzero_pd();
  for (size_t i = 0; i < n; i += 4) m = _mm256_max_pd(m, _mm256_andnot_pd(sign, _mm256_loadu_pd(x + i)));
  __m128d h = _mm_max_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
  h = _mm_max_sd(h, _mm_unpackhi_pd(h, h));
  return _mm_cvtsd_f64(h);
}

// As kernels_avx512.cc's permuteBlocksAvx512, for blocks of 128 bytes (two lanes per register).
int32_t permuteBlocksAvx2(const int8_t* x, size_t blocks, int8_t* out) {
  const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80)), zero = _mm256_setzero_si256();
  __m256i sums = _mm256_setzero_si256();
  for (size_t b = 0; b < blocks; b++, x += 128, out += 128) {
    __m256i a[4];
    for (int k = 0; k < 4; k++) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * k));
      sums = _mm256_add_epi64(sums, _mm256_sad_epu8(_mm256_xor_si256(v, bias), zero));
      a[k] = _mm256_shuffle_epi8(v, shuf);
    }
    const __m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permutevar8x32_epi32(_mm256_unpacklo_epi64(t0, t2), order));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_permutevar8x32_epi32(_mm256_unpackhi_epi64(t0, t2), order));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64), _mm256_permutevar8x32_epi32(_mm256_unpacklo_epi64(t1, t3), order));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 96), _mm256_permutevar8x32_epi32(_mm256_unpackhi_epi64(t1, t3), order));
  }
  alignas(32) int64_t t[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), sums);
  return static_cast<int32_t>(t[0] + t[1] + t[2] + t[3] - static_cast<int64_t>(128 * 128 * blocks));
}

void scaleInt32Avx2(const int32_t* a, size_t n, double s, double* y) {
  const __m256d vs = _mm256_set1_pd(s);
  for (size_t i = 0; i < n; i += 4) _mm256_storeu_pd(y + i, _mm256_mul_pd(_mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i))), vs));
}

void normScaleAvx2(const double* x, size_t n, double inv, const float* w, double* out) {
  const __m256d vi = _mm256_set1_pd(inv);
  for (size_t i = 0; i < n; i += 4) _mm256_storeu_pd(out + i, _mm256_mul_pd(_mm256_mul_pd(_mm256_loadu_pd(x + i), vi), _mm256_cvtps_pd(_mm_loadu_ps(w + i))));
}

void relu2GluAvx2(const double* g, const double* u, size_t n, double* out) {
  const __m256i zero = _mm256_setzero_si256();
  for (size_t i = 0; i < n; i += 4) {
    const __m256i b = _mm256_castpd_si256(_mm256_loadu_pd(g + i));
    const __m256d r = _mm256_castsi256_pd(_mm256_andnot_si256(_mm256_cmpgt_epi64(zero, b), b));
    _mm256_storeu_pd(out + i, _mm256_mul_pd(_mm256_mul_pd(r, r), _mm256_loadu_pd(u + i)));
  }
}

size_t countPositiveAvx2(const double* x, size_t n) {
  const __m256d zero = _mm256_setzero_pd();
  size_t c = 0;
  for (size_t i = 0; i < n; i += 4) c += static_cast<size_t>(__builtin_popcount(_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + i), zero, _CMP_GT_OQ))));
  return c;
}

// As kernels_avx512.cc.
void roundClipAvx2(const double* x, size_t n, double a, double d, double lo, double hi, int8_t* q) {
  const __m256d va = _mm256_set1_pd(a), vd = _mm256_set1_pd(d), vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
  auto step = [&](const double* p) {
    const __m256d v = _mm256_div_pd(_mm256_mul_pd(va, _mm256_loadu_pd(p)), vd);
    return _mm256_cvtpd_epi32(_mm256_min_pd(_mm256_max_pd(_mm256_round_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vlo), vhi));
  };
  for (size_t i = 0; i < n; i += 8) {
    const __m128i w = _mm_packs_epi32(step(x + i), step(x + i + 4));  // in range already: no saturation
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm_packs_epi16(w, w));
  }
}

}  // namespace bitlens
