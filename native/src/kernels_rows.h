// The row-group driver shared by the SIMD ternary kernels (kernels_avx2.cc, kernels_avx512.cc): which
// rows a step takes, where it prefetches, and one Dot per activation vector. The anonymous namespace
// gives each ISA unit its own copy, compiled with that unit's flags (a single inline definition could
// be merged across units by the linker and run AVX-512 code on an AVX2-only CPU).
#pragma once
#include <algorithm>

#include "kernels.h"

namespace bitlens {
namespace {

// Software prefetch. The hardware prefetcher alone keeps too few lines in flight for this loop, and
// prefetching each row of a group at its own position (several interleaved streams) measured no
// better (~9 GB/s from DRAM on Zen 4): what runs at the speed of a plain streaming read (~20 GB/s
// per thread) is one prefetch per 64 B consumed, issued in increasing address order over the
// group's contiguous rows, kPrefetchBytes past the start of the group's last row.
constexpr size_t kPrefetchBytes = 2048;
// Rows selected by an index (the W_up skip) are not contiguous: their lines are fetched this many
// groups ahead, row by row.
constexpr size_t kIdxAheadGroups = 2;

/** dots[i] = sum of codes(w[i]) x x over nblk blocks; `pf` (linear prefetch) or `pfRows` (one per row) may be null. */
using DotRowsFn = void (*)(const uint8_t* const* w, const int8_t* x, size_t nblk, const uint8_t* pf, const uint8_t* const* pfRows, int32_t* dots);

// Rows at positions [r, r + R) (of idx, or themselves) against every activation vector of the
// batch: the rows stay in L1 while the vectors (few enough for L2, see Model::linear) pass over them.
template <int R, DotRowsFn Dot, size_t BlockCols>
inline void rowGroup(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r, size_t r1, const uint32_t* idx) {
  const size_t nblk = m.colsPadded / BlockCols;
  size_t rows[R];
  const uint8_t* w[R];
  const uint8_t* pfRows[R];
  for (int i = 0; i < R; i++) {
    rows[i] = idx ? idx[r + i] : r + i;
    w[i] = m.row(rows[i]);
    if (idx) pfRows[i] = m.row(idx[std::min(r + kIdxAheadGroups * R + i, r1 - 1)]);
  }
  const uint8_t* pf = idx ? nullptr : w[0] + (R - 1) * m.rowBytes + kPrefetchBytes;
  int32_t dots[R];
  for (size_t b = 0; b < batch; b++) {
    // Later vectors of the batch find the rows in L1: prefetch on the first pass only.
    Dot(w, xq + b * m.colsPadded, nblk, b ? nullptr : pf, b || !idx ? nullptr : pfRows, dots);
    for (int i = 0; i < R; i++) out[b * m.rows + rows[i]] = dots[i] - xsum[b];
  }
}

}  // namespace
}  // namespace bitlens
