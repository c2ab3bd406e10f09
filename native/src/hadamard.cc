// Orthonormal Hadamard transform H_n = (H_K (x) H_{2^k}) / sqrt(n), with the factor choice, Paley
// construction and index order of engine/common/hadamard.ts and the same rounding (butterflies in
// the array's precision, H_K columns summed in float64, then one multiply by 1/sqrt(n)).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace bitlens {
namespace {

bool isPrime(long q) {
  if (q < 2) return false;
  for (long d = 2; d * d <= q; d++)
    if (q % d == 0) return false;
  return true;
}

bool hasPaleyI(long K) { return isPrime(K - 1) && (K - 1) % 4 == 3; }

std::vector<int8_t> paley(int K) {
  if (K == 1) return {1};
  const int q = K - 1;
  std::vector<int8_t> chi(q, -1), h(static_cast<size_t>(K) * K);
  chi[0] = 0;
  for (long x = 1; x < q; x++) chi[(x * x) % q] = 1;
  for (int c = 0; c < K; c++) h[c] = 1;
  for (int r = 1; r < K; r++) {
    h[static_cast<size_t>(r) * K] = -1;
    for (int c = 1; c < K; c++) h[static_cast<size_t>(r) * K + c] = static_cast<int8_t>((r == c ? 1 : 0) + chi[(((r - c) % q) + q) % q]);
  }
  return h;
}

void columnStep(const int8_t* h, int K, size_t P, bool inverse, const double* in, double* out) {
  for (int i = 0; i < K; i++) {
    double* o = out + static_cast<size_t>(i) * P;
    for (int l = 0; l < K; l++) {
      const double c = inverse ? h[l * K + i] : h[i * K + l];
      const double* xl = in + static_cast<size_t>(l) * P;
      for (size_t j = 0; j < P; j++) o[j] += c * xl[j];
    }
  }
}

template <typename T>
void transform(const HadamardPlan& plan, T* x, bool inverse) {
  const size_t P = plan.pow2;
  const int K = plan.K;
  for (int r = 0; r < K; r++) {
    T* row = x + static_cast<size_t>(r) * P;
    for (size_t len = 1; len < P; len <<= 1) {
      for (size_t i = 0; i < P; i += len << 1) {
        for (size_t j = i; j < i + len; j++) {
          const T a = row[j], b = row[j + len];
          row[j] = a + b;
          row[j + len] = a - b;
        }
      }
    }
  }
  if (K > 1) {
    // out[i][j] = sum over l in order of h(i, l) * x[l][j], in float64: the reference's column sums,
    // computed for all j of a row at once (vectorizes along j; each sum keeps its order).
    const int8_t* h = plan.h.data();
    thread_local std::vector<double> in, out;
    in.assign(x, x + static_cast<size_t>(K) * P);
    out.assign(static_cast<size_t>(K) * P, 0.0);
    columnStep(h, K, P, inverse, in.data(), out.data());
    for (size_t i = 0; i < static_cast<size_t>(K) * P; i++) x[i] = static_cast<T>(out[i]);
  }
  const size_t n = P * static_cast<size_t>(K);
  const double norm = 1 / std::sqrt(static_cast<double>(n));
  for (size_t i = 0; i < n; i++) x[i] = static_cast<T>(static_cast<double>(x[i]) * norm);
}

}  // namespace

HadamardPlan hadamardPlan(size_t n, Isa isa) {
  if (n < 1) throw std::invalid_argument("Hadamard transform: width 0 is not a positive integer");
  size_t odd = n;
  while (odd % 2 == 0) odd /= 2;
  HadamardPlan plan;
  plan.isa = isa;
  if (odd == 1) {
    plan.pow2 = n;
    plan.h = {1};
    return plan;
  }
  for (size_t K = odd; n % K == 0; K *= 2) {
    if (hasPaleyI(static_cast<long>(K))) {
      plan.K = static_cast<int>(K);
      plan.pow2 = n / K;
      plan.h = paley(plan.K);
      plan.signs.resize(plan.h.size());
      plan.signsT.resize(plan.h.size());
      for (size_t i = 0; i < K; i++)
        for (size_t l = 0; l < K; l++) {
          plan.signs[i * K + l] = static_cast<int64_t>(static_cast<uint64_t>(plan.h[i * K + l] < 0) << 63);
          plan.signsT[i * K + l] = static_cast<int64_t>(static_cast<uint64_t>(plan.h[l * K + i] < 0) << 63);
        }
      return plan;
    }
  }
  throw std::invalid_argument("Hadamard transform: no construction for width " + std::to_string(n) + " (= " + std::to_string(odd) + " * " +
                              std::to_string(n / odd) + "); supported widths are 2^k and K * 2^k with K - 1 a prime = 3 mod 4");
}

void hadamardTransform(const HadamardPlan& plan, double* x, double* out, bool inverse, const ParallelFor* parallel, double* absSum) {
  void (*rows)(double*, size_t, size_t) = nullptr;
  void (*columns)(const HadamardPlan&, bool, double, const double*, double*, size_t, size_t, double*) = nullptr;
  switch (plan.isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512: rows = hadamardRowsF64Avx512, columns = hadamardColumnsF64Avx512; break;
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2: rows = hadamardRowsF64Avx2, columns = hadamardColumnsF64Avx2; break;
#endif
    default: break;
  }
  const size_t P = plan.pow2, K = static_cast<size_t>(plan.K), n = K * P;
  const double norm = 1 / std::sqrt(static_cast<double>(n));
  bool summed = false;
  if (!rows || P % 32 != 0) {
    transform(plan, x, inverse);
    if (out != x) std::copy(x, x + n, out);
  } else if (K == 1) {
    rows(x, P, K);
    for (size_t i = 0; i < n; i++) out[i] = x[i] * norm;
  } else {
    rows(x, P, K);
    // The H_K step reads all of x: in place, it writes to scratch first.
    thread_local std::vector<double> scratch;
    double* dst = out;
    if (out == x) {
      scratch.resize(n);
      dst = scratch.data();  // the caller's buffer (inside the lambda, scratch would be each worker's own)
    }
    if (absSum) {
      columns(plan, inverse, norm, x, dst, 0, K, absSum);
      summed = true;
    } else {
      const auto step = [&](size_t i0, size_t i1) { columns(plan, inverse, norm, x, dst, i0, i1, nullptr); };
      // Ranges of whole 6-row blocks (the SIMD kernels' widest; K is a multiple of 4, so the last
      // range may end in a block of 2 or 4).
      if (parallel) (*parallel)(K, step, 6);
      else step(0, K);
    }
    if (dst != out) std::copy(dst, dst + n, out);
  }
  if (absSum && !summed) {
    // quant.cc's INT4 absmean sum: |x| in index order.
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += std::fabs(out[i]);
    *absSum = sum;
  }
}
void hadamardTransform(const HadamardPlan& plan, double* x, bool inverse, const ParallelFor* parallel) { hadamardTransform(plan, x, x, inverse, parallel, nullptr); }
void hadamardTransform(const HadamardPlan& plan, float* x, bool inverse) { transform(plan, x, inverse); }

}  // namespace bitlens
