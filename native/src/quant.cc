// Per-token quantizers, line for line the float64 arithmetic of engine/common/quant.ts
// (compiled with -ffp-contract=off so no multiply-add is fused: the codes must match exactly).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace bitlens {
namespace {

constexpr double kEps = 1e-5;

// nearbyint rounds half to even in the default rounding mode (torch.round / ONNX Round).
inline int8_t roundClip(double v, double lo, double hi) { return static_cast<int8_t>(std::min(std::max(std::nearbyint(v), lo), hi)); }

template <typename T>
double absMax(const T* x, size_t n, Isa isa) {
  if constexpr (std::is_same_v<T, double>) {
    if (n % 8 == 0) {
      switch (isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
        case Isa::Avx512: return absMaxAvx512(x, n);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
        case Isa::Avx2: return absMaxAvx2(x, n);
#endif
        default: break;
      }
    }
  }
  double g = 0;
  for (size_t i = 0; i < n; i++) g = std::max(g, std::fabs(static_cast<double>(x[i])));
  return g;
}

/** q[i] = RoundClip((a * x[i]) / d, lo, hi). */
template <typename T>
void roundClipAll(const T* x, size_t n, double a, double d, double lo, double hi, int8_t* q, Isa isa) {
  if constexpr (std::is_same_v<T, double>) {
    if (n % 8 == 0) {
      switch (isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
        case Isa::Avx512: return roundClipAvx512(x, n, a, d, lo, hi, q);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
        case Isa::Avx2: return roundClipAvx2(x, n, a, d, lo, hi, q);
#endif
        default: break;
      }
    }
  }
  for (size_t i = 0; i < n; i++) q[i] = roundClip((a * static_cast<double>(x[i])) / d, lo, hi);
}

template <typename T>
double int8Absmax(const T* x, size_t n, int8_t* q, Isa isa) {
  const double g = absMax(x, n, isa);
  roundClipAll(x, n, 127, g + kEps, -128, 127, q, isa);
  return g / 127;
}

template <typename T>
double absSum(const T* x, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += std::fabs(static_cast<double>(x[i]));
  return sum;
}

template <typename T>
double int4Absmean(const T* x, size_t n, double sum, int8_t* q, Isa isa) {
  static const double sqrt7 = std::sqrt(7.0);
  const double b = n ? sum / static_cast<double>(n) : 0;
  roundClipAll(x, n, sqrt7, b + kEps, -8, 7, q, isa);
  return b / sqrt7;
}

template <typename T>
double int8Top50(const T* x, size_t n, int8_t* q, Isa isa) {
  const double scale = int8Absmax(x, n, q, isa);
  const size_t keep = n / 2;
  // The kept set of quant.ts' topKMask: order by |x| descending, lower index first among equals.
  thread_local std::vector<uint32_t> idx;
  idx.resize(n);
  std::iota(idx.begin(), idx.end(), 0u);
  auto before = [x](uint32_t a, uint32_t b) {
    const double xa = std::fabs(static_cast<double>(x[a])), xb = std::fabs(static_cast<double>(x[b]));
    return xa > xb || (xa == xb && a < b);
  };
  if (keep < n) {
    std::nth_element(idx.begin(), idx.begin() + keep, idx.end(), before);
    for (size_t i = keep; i < n; i++) q[idx[i]] = 0;
  }
  return scale;
}

}  // namespace

double quantInt8Absmax(const double* x, size_t n, int8_t* q, Isa isa) { return int8Absmax(x, n, q, isa); }
double quantInt4Absmean(const double* x, size_t n, int8_t* q, Isa isa) { return int4Absmean(x, n, absSum(x, n), q, isa); }
double quantInt4Absmean(const double* x, size_t n, double sum, int8_t* q, Isa isa) { return int4Absmean(x, n, sum, q, isa); }
double quantInt8Top50(const double* x, size_t n, int8_t* q, Isa isa) { return int8Top50(x, n, q, isa); }
double quantInt8Absmax(const float* x, size_t n, int8_t* q) { return int8Absmax(x, n, q, Isa::Portable); }
double quantInt4Absmean(const float* x, size_t n, int8_t* q) { return int4Absmean(x, n, absSum(x, n), q, Isa::Portable); }
double quantInt8Top50(const float* x, size_t n, int8_t* q) { return int8Top50(x, n, q, Isa::Portable); }

size_t countPositive(const double* x, size_t n, Isa isa) {
  size_t i = 0, c = 0;
  switch (isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512: i = n / 8 * 8, c = countPositiveAvx512(x, i); break;
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2: i = n / 8 * 8, c = countPositiveAvx2(x, i); break;
#endif
    default: break;
  }
  for (; i < n; i++) c += x[i] > 0;
  return c;
}

double quantKv(const double* x, size_t n, int bits, int8_t* q) {
  if (bits < 2 || bits > 8) throw std::invalid_argument("KV bits must be an integer in 2..8, got " + std::to_string(bits));
  const double Q = static_cast<double>((1 << (bits - 1)) - 1);
  const double g = absMax(x, n, Isa::Portable);
  for (size_t i = 0; i < n; i++) q[i] = roundClip((Q * x[i]) / (g + kEps), -Q - 1, Q);
  return g / Q;
}

}  // namespace bitlens
