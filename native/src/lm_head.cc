// The screened LM head (lm_head.h): building the int8 copy, the bound, the candidate rule and the
// portable approximate-logit kernels.
#include "lm_head.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bitlens {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Relative slack for float64 rounding in the bound's own arithmetic (norms, products, e_i).
constexpr double kSlack = 1.0 + 0x1p-40;

/** gamma_n = n u / (1 - n u), u = 2^-24: the float32 rounding of an n-term dot product in any order. */
double gamma32(size_t n) {
  const double nu = static_cast<double>(n) * 0x1p-24;
  if (nu >= 0.5) throw std::invalid_argument("LM head rows are too long for a float32 error bound");
  return nu / (1 - nu);
}

/**
 * Round half to even for |x| < 2^51, as nearbyint in the default rounding mode, without the libm
 * call nearbyint costs on baseline x86-64 (no SSE4.1 roundsd): the int8 copy rounds 328M values.
 * x + 1.5 2^52 lands where the spacing is 1, so the addition itself rounds (M is even: ties stay even).
 */
inline double roundEven(double x) {
  constexpr double kMagic = 0x1.8p52;
  return (x + kMagic) - kMagic;
}

/** The smallest float >= x. */
float roundUp(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

void approxF32(Isa isa, const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
  if (isa == Isa::Avx512) return lmHeadApproxF32Avx512(q, stride, scale, h, out, v0, v1);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
  if (isa == Isa::Avx2 || isa == Isa::Avx512) return lmHeadApproxF32Avx2(q, stride, scale, h, out, v0, v1);
#endif
  (void)isa;
  lmHeadApproxF32Portable(q, stride, scale, h, out, v0, v1);
}

void approxInt8(Isa isa, const int8_t* q, size_t stride, const uint8_t* u, int32_t* acc, size_t v0, size_t v1) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
  if (isa == Isa::Avx512) return lmHeadApproxInt8Avx512(q, stride, u, acc, v0, v1);
#endif
  (void)isa;
  lmHeadApproxInt8Portable(q, stride, u, acc, v0, v1);
}

constexpr size_t kCodesAlign = 2u << 20;

/**
 * Zeroed memory for the int8 copy: 2 MiB aligned and, on Linux, in transparent huge pages (one TLB
 * entry per 2 MiB: the per-token pass streams hundreds of MB and 4 KiB pages cost it a third of its speed).
 */

int8_t* allocCodes(size_t bytes) {
  const size_t padded = (bytes + kCodesAlign - 1) / kCodesAlign * kCodesAlign;
  // Aligned operator new (C++17) rather than posix_memalign: the same code builds with MSVC (Windows).
  void* p = ::operator new(padded, std::align_val_t(kCodesAlign));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, padded, MADV_HUGEPAGE);
#endif
  std::memset(p, 0, bytes);
  return static_cast<int8_t*>(p);
}

}  // namespace

void lmHeadQuantRowPortable(const double* w, size_t cols, double s, int8_t* q, double& e, int64_t& absSum, int64_t& sum) {
  for (size_t j = 0; j < cols; j++) {
    const double qd = s > 0 ? std::clamp(roundEven(w[j] / s), -127.0, 127.0) : 0.0;
    q[j] = static_cast<int8_t>(qd);
    e = std::max(e, std::fabs(w[j] - s * qd));  // s * q is exact in float64
    absSum += q[j] < 0 ? -q[j] : q[j];
    sum += q[j];
  }
}

namespace {

// Codes of one row: q = round-half-even(w / s) clamped to +-127, and e = max |w - s q| measured on
// the codes actually stored (the same float64 operations on every path).
void quantRow(Isa isa, const double* w, size_t cols, float s, int8_t* q, double& e, int64_t& absSum, int64_t& sum) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
  if (isa == Isa::Avx512 && s > 0) return lmHeadQuantRowAvx512(w, cols, s, q, e, absSum, sum);
#endif
  (void)isa;
  lmHeadQuantRowPortable(w, cols, s, q, e, absSum, sum);
}

}  // namespace

void LmHeadInt8::Free::operator()(int8_t* p) const { ::operator delete(p, std::align_val_t(kCodesAlign)); }

void lmHeadApproxF32Portable(const int8_t* q, size_t stride, const float* scale, const float* h, double* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const int8_t* r = q + v * stride;
    float s = 0;
    for (size_t j = 0; j < stride; j++) s += h[j] * static_cast<float>(r[j]);
    out[v] = static_cast<double>(scale[v]) * static_cast<double>(s);
  }
}

void lmHeadApproxInt8Portable(const int8_t* q, size_t stride, const uint8_t* u, int32_t* acc, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const int8_t* r = q + v * stride;
    int32_t s1 = 0, s2 = 0;
    for (size_t j = 0; j < stride; j++) {
      s1 += static_cast<int32_t>(r[j]) * u[j];
      s2 += static_cast<int32_t>(r[j]) * u[stride + j];
    }
    acc[2 * (v - v0)] = s1;
    acc[2 * (v - v0) + 1] = s2;
  }
}

LmHeadInt8::LmHeadInt8(const uint16_t* f16, const float* f32, size_t rows, size_t cols, Isa isa, LmHeadMode mode, ThreadPool& pool)
    : f16_(f16), f32_(f32), rows_(rows), cols_(cols), stride_((cols + 63) / 64 * 64), isa_(isa), mode_(mode) {
  if ((f16 == nullptr) == (f32 == nullptr)) throw std::invalid_argument("LmHeadInt8 needs exactly one of an f16 or an f32 table");
  if (!rows || !cols) throw std::invalid_argument("LmHeadInt8: empty table");
  const double rounding = 2 * gamma32(cols + 2);
  q_.reset(allocCodes(rows * stride_));
  scale_.resize(rows);
  errK_.resize(rows);
  absQ_.resize(rows);
  sumQ_.resize(rows);
  std::vector<float> half;
  if (f16) {
    half.resize(65536);
    for (size_t i = 0; i < 65536; i++) half[i] = halfToFloat(static_cast<uint16_t>(i));
  }
  pool.parallelFor(rows, [&](size_t r0, size_t r1) {
    std::vector<double> w(cols);
    for (size_t r = r0; r < r1; r++) {
      double A = 0;
      bool finite = true;
#if defined(BITLENS_HAVE_AVX512_KERNELS)
      if (f16 && isa == Isa::Avx512) lmHeadRowF16Avx512(f16 + r * cols, cols, w.data(), A, finite);
      else
#endif
        for (size_t j = 0; j < cols; j++) {
          w[j] = f16 ? half[f16[r * cols + j]] : f32[r * cols + j];
          finite = finite && std::isfinite(w[j]);
          A = std::max(A, std::fabs(w[j]));
        }
      if (!finite) {  // no bound: the row is always re-scored
        scale_[r] = 0;
        errK_[r] = std::numeric_limits<float>::infinity();
        absQ_[r] = 0;
        sumQ_[r] = 0;
        continue;
      }
      const float s = static_cast<float>(A / 127);
      double e = 0;
      int64_t absSum = 0, sum = 0;
      quantRow(isa_, w.data(), cols, s, q_.get() + r * stride_, e, absSum, sum);
      scale_[r] = s;
      errK_[r] = roundUp((e + rounding * (A + 127.0 * static_cast<double>(s))) * kSlack);
      absQ_[r] = roundUp(static_cast<double>(s) * static_cast<double>(absSum) * kSlack);
      sumQ_[r] = static_cast<int32_t>(sum);
    }
  });
  for (size_t r = 0; r < rows; r++)
    if (std::isfinite(errK_[r])) maxA_ = std::max(maxA_, 127.0 * static_cast<double>(scale_[r]));
}

size_t LmHeadInt8::bytes() const {
  return rows_ * stride_ + rows_ * (sizeof(float) * 3 + sizeof(int32_t));
}

bool LmHeadInt8::approx(ThreadPool& pool, const float* h, double* zhat, double* bound) {
  double n1 = 0, hmax = 0;
  for (size_t j = 0; j < cols_; j++) {
    n1 += std::fabs(static_cast<double>(h[j]));
    hmax = std::max(hmax, std::fabs(static_cast<double>(h[j])));
  }
  // Non-finite h, or products large enough that a float32 sum could overflow: no bound.
  if (!(n1 * (maxA_ + 1) < 1e30)) return false;
  n1 *= kSlack;
  // Underflow: each of the <= 2 (d + 2) float operations behind z_i and zhat_i may lose 2^-150.
  const double eta = static_cast<double>(cols_ + 2) * 0x1p-147;
  double tau = 0, t1 = 0, t2 = 0;
  if (mode_ == LmHeadMode::Int8) {
    // Two int8 digits: h = t1 p1 + t2 p2 + r (absmax, half to even; p2 quantizes the first residual),
    // stored as u = p + 128 for the unsigned operand; |r_j| <= tau is measured, not assumed.
    hq_.assign(2 * stride_, 128);
    hres_.resize(cols_);
    t1 = hmax / 127;
    double rmax = 0;
    for (size_t j = 0; j < cols_; j++) {
      const double p = t1 > 0 ? std::clamp(roundEven(h[j] / t1), -127.0, 127.0) : 0.0;
      hq_[j] = static_cast<uint8_t>(static_cast<int>(p) + 128);
      hres_[j] = static_cast<double>(h[j]) - t1 * p;
      rmax = std::max(rmax, std::fabs(hres_[j]));
    }
    t2 = rmax / 127;
    for (size_t j = 0; j < cols_; j++) {
      const double p = t2 > 0 ? std::clamp(roundEven(hres_[j] / t2), -127.0, 127.0) : 0.0;
      hq_[stride_ + j] = static_cast<uint8_t>(static_cast<int>(p) + 128);
      tau = std::max(tau, std::fabs(hres_[j] - t2 * p));
    }
    // hres_ carries float64 rounding of h - t1 p1 (relative 2^-53 of |h_j|): add it to tau.
    tau = (tau + hmax * 0x1p-50) * kSlack;
  } else {
    hpad_.assign(stride_, 0.f);
    std::copy(h, h + cols_, hpad_.begin());
  }
  pool.parallelFor(rows_, [&](size_t v0, size_t v1) {
    if (mode_ == LmHeadMode::Int8) {
      int32_t acc[128];
      for (size_t a = v0; a < v1; a += 64) {
        const size_t b = std::min(v1, a + 64);
        approxInt8(isa_, q_.get(), stride_, hq_.data(), acc, a, b);
        for (size_t v = a; v < b; v++) {
          const double off = 128.0 * sumQ_[v];
          zhat[v] = static_cast<double>(scale_[v]) * (t1 * (acc[2 * (v - a)] - off) + t2 * (acc[2 * (v - a) + 1] - off));
        }
      }
    } else {
      approxF32(isa_, q_.get(), stride_, scale_.data(), hpad_.data(), zhat, v0, v1);
    }
    for (size_t v = v0; v < v1; v++) {
      // The float64 products and sums of this line and of zhat: a few ulps of |zhat|.
      bound[v] = static_cast<double>(errK_[v]) * n1 + static_cast<double>(absQ_[v]) * tau + eta + 0x1p-48 * std::fabs(zhat[v]);
      if (!std::isfinite(errK_[v])) bound[v] = kInf;
    }
  }, 64);
  return true;
}

void LmHeadInt8::exact(const float* h, float* out, size_t v0, size_t v1, const uint32_t* idx) const {
  if (!idx) {
    if (f16_) lmHeadF16(isa_, f16_, cols_, h, out, v0, v1);
    else lmHeadF32(isa_, f32_, cols_, h, out, v0, v1);
    return;
  }
  for (size_t i = v0; i < v1; i++) exact(h, out, idx[i], idx[i] + 1);
}

size_t LmHeadInt8::screened(ThreadPool& pool, const float* h, const HeadRequest& req, float* logits) {
  zhat_.resize(rows_);
  bound_.resize(rows_);
  steps_++;
  if (req.k == 0 || req.k >= rows_ || !approx(pool, h, zhat_.data(), bound_.data())) {
    cand_.clear();
    pool.parallelFor(rows_, [&](size_t v0, size_t v1) { exact(h, logits, v0, v1); });
    rescored_ += rows_;
    return rows_;
  }
  screenCandidates(zhat_.data(), bound_.data(), rows_, req, lo_, hi_, kth_, cand_);
  std::fill(logits, logits + rows_, -std::numeric_limits<float>::infinity());
  pool.parallelFor(cand_.size(), [&](size_t a, size_t b) { exact(h, logits, a, b, cand_.data()); }, 8);
  rescored_ += cand_.size();
  return cand_.size();
}

void screenCandidates(const double* zhat, const double* bound, size_t n, const HeadRequest& req, std::vector<double>& lo, std::vector<double>& hi,
                      std::vector<double>& scratch, std::vector<uint32_t>& out) {
  if (req.k < 1 || req.k > n) throw std::invalid_argument("screenCandidates: k must be in 1..rows");
  lo.resize(n);
  hi.resize(n);
  for (size_t i = 0; i < n; i++) {
    if (std::isfinite(bound[i]) && std::isfinite(zhat[i])) {
      lo[i] = zhat[i] - bound[i];
      hi[i] = zhat[i] + bound[i];
    } else {
      lo[i] = -kInf;
      hi[i] = kInf;
    }
  }
  if (req.penalty != 1) {
    // applyRepetitionPenalty (sampling.ts), once per distinct id; monotone, so it maps the interval's ends.
    std::vector<int32_t> ids(req.context);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const double p = req.penalty;
    auto f = [p](double x) { return x > 0 ? x / p : x * p; };
    for (int32_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= n) continue;
      lo[id] = f(lo[id]);
      hi[id] = f(hi[id]);
    }
  }
  double L;
  if (req.k <= 64) {
    // The k largest so far, descending; most rows fall below the smallest and cost one comparison.
    scratch.assign(req.k, -kInf);
    for (size_t i = 0; i < n; i++) {
      if (!(lo[i] > scratch[req.k - 1])) continue;
      size_t j = req.k - 1;
      for (; j > 0 && scratch[j - 1] < lo[i]; j--) scratch[j] = scratch[j - 1];
      scratch[j] = lo[i];
    }
    L = scratch[req.k - 1];
  } else {
    scratch.assign(lo.begin(), lo.end());
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(req.k - 1), scratch.end(), std::greater<double>());
    L = scratch[req.k - 1];
  }
  out.clear();
  for (size_t i = 0; i < n; i++)
    if (hi[i] >= L) out.push_back(static_cast<uint32_t>(i));
}

}  // namespace bitlens
