// The screened LM head: an int8 copy of the head table gives approximate logits with a rigorous
// per-row error bound; only the rows that can still be among the top K (after the repetition
// penalty) are re-scored with the exact kernel (lmHeadF16 / lmHeadF32), the others become -inf.
// The sampler then draws exactly what it would draw from the full logits. The rule is
// engine/common/lm-head-screen.ts (spec and test oracle); the bound:
//
//   z_i   = what the exact kernel returns, z*_i = sum_j w_ij h_j (real arithmetic),
//   s_i   = absmax_i / 127 (float), q_ij = round-half-even(w_ij / s_i), e_i = max_j |w_ij - s_i q_ij|,
//   |z_i - z*_i|          <= gamma_d sum_j |w_ij h_j| <= gamma_d A_i ||h||_1   (any order, FMA or not)
//   |z*_i - s_i q_i.h|    <= e_i ||h||_1
//   |s_i q_i.h - zhat_i|  <= gamma_{d+2} 127 s_i ||h||_1                      (float path)
//                         or s_i tau sum_j |q_ij|                  (h = t1 p1 + t2 p2 + r, two int8 digits, |r_j| <= tau)
// so b_i = (e_i + 2 gamma_{d+2} (A_i + 127 s_i)) ||h||_1 [+ s_i tau sum_j |q_ij|] bounds |z_i - zhat_i|,
// with a factor 2 on the rounding terms, stored constants rounded up and an absolute term for underflow.
// (Int8 mode sums exactly in int32; its float64 scaling errs by ~1e-13 s_i ||h||_1, inside the
// float-path term it keeps.) Measured on the 2B shape: max |z - zhat| / b = 0.07.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels.h"
#include "pool.h"

namespace bitlens {

/** How the approximate logits are computed: int8 weights x float32 h (FMA), or x h as two int8 digits (VNNI dpbusd). */
enum class LmHeadMode { F32, Int8 };

/** What the sampler needs from the next logits: the top k after the repetition penalty over `context`. */
struct HeadRequest {
  size_t k = 0;
  double penalty = 1;
  std::vector<int32_t> context;
};

class LmHeadInt8 {
 public:
  /** One of f16 / f32 is the head table (rows x cols); the int8 copy is built here (parallel on `pool`). */
  LmHeadInt8(const uint16_t* f16, const float* f32, size_t rows, size_t cols, Isa isa, LmHeadMode mode, ThreadPool& pool);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  /** Bytes of the int8 copy and its per-row constants. */
  size_t bytes() const;

  /**
   * zhat and b for every row (b = +inf for rows the int8 copy cannot bound: non-finite weights).
   * Returns false when h is such that no useful bound exists (non-finite, or products could overflow).
   */
  bool approx(ThreadPool& pool, const float* h, double* zhat, double* bound);
  /** The exact kernel on rows [v0, v1), or on rows idx[v0..v1) when idx is given. */
  void exact(const float* h, float* out, size_t v0, size_t v1, const uint32_t* idx = nullptr) const;
  /**
   * Screened logits: exact for the candidate rows, -inf elsewhere. Returns the candidate count, or
   * rows() when it fell back to the full head (k >= rows, or approx() refused h).
   */
  size_t screened(ThreadPool& pool, const float* h, const HeadRequest& req, float* logits);
  /** Rows re-scored by the last screened() (ascending ids). */
  const std::vector<uint32_t>& candidates() const { return cand_; }
  /** screened() calls so far and the rows they computed exactly (all rows when it fell back). */
  size_t steps() const { return steps_; }
  size_t rescoredRows() const { return rescored_; }

 private:
  const uint16_t* f16_;
  const float* f32_;
  size_t rows_, cols_, stride_;
  Isa isa_;
  LmHeadMode mode_;
  struct Free {
    void operator()(int8_t* p) const;
  };
  std::unique_ptr<int8_t[], Free> q_;  // rows x stride_, zero padded (2 MiB pages where the OS offers them)
  std::vector<float> scale_;    // s_i
  std::vector<float> errK_;     // per-row coefficient of ||h||_1 in b_i (rounded up; +inf: always a candidate)
  std::vector<float> absQ_;     // s_i * sum_j |q_ij| (rounded up): coefficient of tau (Int8 mode)
  std::vector<int32_t> sumQ_;   // sum_j q_ij (Int8 mode: offset of the unsigned activations)
  double maxA_ = 0;             // largest 127 s_i (overflow guard)
  std::vector<float> hpad_;
  std::vector<uint8_t> hq_;     // Int8 mode: two digits of h, u = p + 128
  std::vector<double> hres_;
  std::vector<double> zhat_, bound_, lo_, hi_, kth_;
  std::vector<uint32_t> cand_;
  size_t steps_ = 0, rescored_ = 0;
};

/**
 * Candidate rows (ascending): i with hi_i >= L_K, L_K the k-th largest lo_j, where [lo, hi] =
 * f([zhat - b, zhat + b]) and f is the repetition penalty (x > 0 ? x / p : x * p) on context ids.
 * `lo` and `hi` are scratch (n each). Same semantics as screenCandidates in lm-head-screen.ts.
 */
void screenCandidates(const double* zhat, const double* bound, size_t n, const HeadRequest& req, std::vector<double>& lo, std::vector<double>& hi,
                      std::vector<double>& scratch, std::vector<uint32_t>& out);

// Per-ISA approximate-logit kernels (lm_head_*.cc): rows [v0, v1) of the padded int8 copy.
// F32: out[v] = s_v * sum_j q_vj h_j (float32 sum, then in float64). Int8: acc[2 (v - v0) + k] =
// sum_j q_vj u[k stride + j] for the two digits k of h, u = p + 128 unsigned (the caller subtracts 128 sum_j q_vj).
void lmHeadApproxF32Portable(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1);
void lmHeadApproxF32Avx2(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1);
void lmHeadApproxF32Avx512(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1);
void lmHeadApproxInt8Portable(const int8_t* q, size_t stride, const uint8_t* u, int32_t* acc, size_t v0, size_t v1);
void lmHeadApproxInt8Avx512(const int8_t* q, size_t stride, const uint8_t* u, int32_t* acc, size_t v0, size_t v1);

/** One f16 row as float64 into w, max |w| into absMax (which it starts from), finite &= no inf / NaN. */
void lmHeadRowF16Avx512(const uint16_t* w16, size_t cols, double* w, double& absMax, bool& finite);
// Codes of one row for the int8 copy (accumulates into e = max |w - s q|, sum |q|, sum q).
void lmHeadQuantRowPortable(const double* w, size_t cols, double s, int8_t* q, double& e, int64_t& absSum, int64_t& sum);
void lmHeadQuantRowAvx512(const double* w, size_t cols, double s, int8_t* q, double& e, int64_t& absSum, int64_t& sum);

}  // namespace bitlens
