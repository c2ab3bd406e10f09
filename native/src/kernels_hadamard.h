// The H_K column-step driver shared by the SIMD Hadamard kernels (kernels_avx2.cc,
// kernels_avx512.cc): strips of columns outside, so that the K rows of a strip stay in L1 while every
// output row of the strip is computed; blocks of 6, 4, then 2 output rows inside (each loaded x
// vector serves the block's rows). Like kernels_rows.h, the anonymous namespace gives each ISA unit
// its own copy, compiled with that unit's flags.
#pragma once
#include <algorithm>
#include <cmath>

#include "kernels.h"

namespace bitlens {
namespace {

// The terms a block adds to the running sum of |out| in index order: p[0 .. n), `per` of them per l
// (a serial chain of adds, latency-bound, that the out-of-order core runs beside the block's vector
// work; what is left after the last l is added at the end of the block).
struct AbsSumChain {
  const double* p = nullptr;
  size_t n = 0, per = 0;
  double sum = 0;
};

// Kern::block<R, F, Chain>(signs, K, P, norm, x, out, i, j0, chain): rows [i, i + R) of one strip of
// Kern::kWidth columns from j0 (F of them through FMA), and with Chain all of chain's terms.
template <class Kern, bool Chain>
void columnStrip(const int64_t* signs, size_t K, size_t P, double norm, const double* x, double* out, size_t i0, size_t i1, size_t j0, AbsSumChain* chain) {
  size_t i = i0;
  // With a chain (the last strip, whose blocks finish rows in order): each block sums the rows of the
  // block before; the last block's rows are summed at the end.
  const auto next = [&](size_t rows) {
    if constexpr (Chain) {
      chain->p = out + i * P;
      chain->n = rows * P;
      chain->per = (chain->n + K - 1) / K;
    }
    i += rows;
  };
  if constexpr (Kern::kMaxRows >= 6)
    for (; i + 6 <= i1; next(6)) Kern::template block<6, 4, Chain>(signs, K, P, norm, x, out, i, j0, chain);
  for (; i + 4 <= i1; next(4)) Kern::template block<4, 3, Chain>(signs, K, P, norm, x, out, i, j0, chain);
  for (; i < i1; next(2)) Kern::template block<2, 1, Chain>(signs, K, P, norm, x, out, i, j0, chain);
  if constexpr (Chain)
    for (size_t c = 0; c < chain->n; c++) chain->sum += std::fabs(chain->p[c]);
}

// hadamardColumnsF64*: with absSum (whole range only), the sum rides along the last strip.
template <class Kern>
void hadamardColumns(const HadamardPlan& plan, bool inverse, double norm, const double* x, double* out, size_t i0, size_t i1, double* absSum) {
  const size_t P = plan.pow2, K = static_cast<size_t>(plan.K);
  const int64_t* signs = (inverse ? plan.signsT : plan.signs).data();
  const size_t last = absSum ? P - Kern::kWidth : P;
  for (size_t j0 = 0; j0 < last; j0 += Kern::kWidth) columnStrip<Kern, false>(signs, K, P, norm, x, out, i0, i1, j0, nullptr);
  if (absSum) {
    AbsSumChain chain;
    columnStrip<Kern, true>(signs, K, P, norm, x, out, i0, i1, last, &chain);
    *absSum = chain.sum;
  }
}

}  // namespace
}  // namespace bitlens
