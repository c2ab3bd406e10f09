// The CPU kernels of the BitLens addon: per-token quantizers, the Hadamard transform and packed
// ternary matrix products. Arithmetic follows engine/common/{quant,hadamard,ternary}.ts exactly
// (float64 quantizers with the spec's order of operations, integer accumulation); see
// docs/model-format.md and ../shared/spec/bitnet.md. Decode attention (attendF32) and the LM head
// run in float32: they match the reference up to rounding only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bitlens {

// ---- instruction sets -------------------------------------------------------------------------

enum class Isa { Portable = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
const char* isaName(Isa isa);
/** Whether this CPU (and this build) can run `isa`. */
bool isaSupported(Isa isa);
/** The fastest supported path. */
Isa bestIsa();
/** Names of the CPU features the dispatcher looks at, as detected at run time. */
std::vector<std::string> cpuFeatureNames();

// ---- quantizers (quant.ts) --------------------------------------------------------------------

// The float64 quantizers take the path of their element-wise steps (max|x| and the rounding are
// exact in any order; the sum of INT4 absmean stays in index order on every path).
/** INT8 absmax: q = RoundClip(127 x / (max|x| + eps), -128, 127); returns scale = max|x| / 127. */
double quantInt8Absmax(const double* x, size_t n, int8_t* q, Isa isa = Isa::Portable);
/** INT4 absmean: q = RoundClip(sqrt(7) x / (mean|x| + eps), -8, 7); returns mean|x| / sqrt(7). */
double quantInt4Absmean(const double* x, size_t n, int8_t* q, Isa isa = Isa::Portable);
/** The same with absSum = the sum of |x[i]| in index order, already computed (hadamardTransform). */
double quantInt4Absmean(const double* x, size_t n, double absSum, int8_t* q, Isa isa);
/** a4.8's W_o input: INT8 absmax, then zero all but the floor(n/2) largest |x| (lower index wins ties). */
double quantInt8Top50(const double* x, size_t n, int8_t* q, Isa isa = Isa::Portable);
/** KV cache: Q = 2^(bits-1) - 1, q = RoundClip(Q x / (max|x| + eps), -Q-1, Q); returns max|x| / Q. */
double quantKv(const double* x, size_t n, int bits, int8_t* q);

// Per-ISA element-wise steps: max |x[i]|, and q[i] = RoundClip((a * x[i]) / d, lo, hi) with
// round half to even. n % 8 == 0 only on the SIMD paths (the callers fall back otherwise).
double absMaxAvx2(const double* x, size_t n);
double absMaxAvx512(const double* x, size_t n);
void roundClipAvx2(const double* x, size_t n, double a, double d, double lo, double hi, int8_t* q);
void roundClipAvx512(const double* x, size_t n, double a, double d, double lo, double hi, int8_t* q);

/** How many x[i] > 0 (NaN not): the relu2 gate's active rows. */
size_t countPositive(const double* x, size_t n, Isa isa = Isa::Portable);
size_t countPositiveAvx2(const double* x, size_t n);
size_t countPositiveAvx512(const double* x, size_t n);

// Float32 inputs (kernel tests and hosts with float activations); same float64 arithmetic.
double quantInt8Absmax(const float* x, size_t n, int8_t* q);
double quantInt4Absmean(const float* x, size_t n, int8_t* q);
double quantInt8Top50(const float* x, size_t n, int8_t* q);

// ---- element-wise float64 steps of the decode loop (model.cc) ---------------------------------

// The same operations per element as model.cc's loops (so the same bits), for n % 8 == 0:
// y[i] = double(a[i]) * s; out[i] = (x[i] * inv) * double(w[i]); out[i] = r * r * u[i] with
// r = g[i] with the sign bit's lanes zeroed (model.cc's relu: +0 for every negative g, -0 included).
void scaleInt32Avx2(const int32_t* a, size_t n, double s, double* y);
void scaleInt32Avx512(const int32_t* a, size_t n, double s, double* y);
void normScaleAvx2(const double* x, size_t n, double inv, const float* w, double* out);
void normScaleAvx512(const double* x, size_t n, double inv, const float* w, double* out);
void relu2GluAvx2(const double* g, const double* u, size_t n, double* out);
void relu2GluAvx512(const double* g, const double* u, size_t n, double* out);

// ---- Hadamard (hadamard.ts) -------------------------------------------------------------------

struct HadamardPlan {
  int K = 1;       // Paley factor order (1 for powers of two)
  size_t pow2 = 1; // Sylvester factor
  std::vector<int8_t> h; // K x K, +-1
  // The SIMD paths' H_K step: the sign bit of h(i, l) (signs) and of h(l, i) (signsT, the inverse)
  // as int64, row i at i * K: one broadcast gives the mask that makes h(i, l) * x an xor.
  std::vector<int64_t> signs, signsT;
  Isa isa = Isa::Portable; // path of the float64 transform
};
/** Throws std::invalid_argument naming the width when there is no construction. */
HadamardPlan hadamardPlan(size_t n, Isa isa = Isa::Portable);
/** fn(begin, end) over [0, n) in chunks whose bounds are multiples of align, possibly in parallel. */
using ParallelFor = std::function<void(size_t n, const std::function<void(size_t, size_t)>& fn, size_t align)>;
/**
 * In place, x <- H_n x (or H_n^T x): butterflies in T's precision, H_K columns in float64. The
 * float64 H_K step (K^2 n multiply-adds: most of the time) is split over `parallel` when given.
 */
void hadamardTransform(const HadamardPlan& plan, double* x, bool inverse = false, const ParallelFor* parallel = nullptr);
/**
 * out <- H_n x (x is overwritten; out may be x). With absSum, also *absSum = the sum of |out[i]| in
 * index order (quantInt4Absmean's sum, computed beside the H_K step on the AVX-512 path), and the
 * H_K step is not split.
 */
void hadamardTransform(const HadamardPlan& plan, double* x, double* out, bool inverse, const ParallelFor* parallel, double* absSum);
void hadamardTransform(const HadamardPlan& plan, float* x, bool inverse = false);
// Per-ISA float64 steps (the same operations per element in the same order as the portable
// transform, so the same bits), for pow2 % 32 == 0: the butterflies of the K rows of x, and output
// rows [i0, i1) (even bounds) of the H_K step, times norm, into out (with absSum: all rows, and the
// sum of |out| in index order into *absSum).
void hadamardRowsF64Avx2(double* x, size_t P, size_t K);
void hadamardRowsF64Avx512(double* x, size_t P, size_t K);
void hadamardColumnsF64Avx2(const HadamardPlan& plan, bool inverse, double norm, const double* x, double* out, size_t i0, size_t i1, double* absSum);
void hadamardColumnsF64Avx512(const HadamardPlan& plan, bool inverse, double norm, const double* x, double* out, size_t i0, size_t i1, double* absSum);

// ---- packed ternary x int8 -------------------------------------------------------------------

/**
 * A packed ternary matrix as the kernels read it: the model-format layout itself (2-bit codes
 * w + 1, four per byte along the row, column c of a row in byte c >> 2 at bits 2 * (c & 3)). Seen as
 * blocks of 4V columns = V bytes (V = vector width in bytes of the path), field f of byte j holds
 * column 4j + f: one mask yields V codes that line up with V activations once the activation
 * vector is permuted into four planes per block (permuteActivations, once per token; the I2_S
 * idea without repacking the weights). dot(w, x) = dot(code, x) - sum(x), so an unsigned x signed
 * byte multiply-add (maddubs / VNNI dpbusd / NEON mlal) does the work.
 * When cols is a multiple of 4V the matrix is a view of the caller's bytes (no copy: the model's
 * file buffer is the kernels' weight memory); otherwise rows are copied with padding (code 1).
 */
struct TernaryMatrix {
  size_t rows = 0, cols = 0;
  size_t colsPadded = 0;  // multiple of 4V
  size_t rowBytes = 0;    // colsPadded / 4
  int V = 16;
  Isa isa = Isa::Portable;
  const uint8_t* base = nullptr;
  std::vector<uint8_t> owned;  // only for padded copies
  const uint8_t* row(size_t r) const { return base + r * rowBytes; }
};

/** Views (or pads) `packed`; throws std::invalid_argument on a code 3 (naming row and column). */
TernaryMatrix makeTernary(const uint8_t* packed, size_t rows, size_t cols, Isa isa);
/** The ternary value of (r, c). */
inline int ternaryAt(const TernaryMatrix& m, size_t r, size_t c) { return ((m.row(r)[c >> 2] >> (2 * (c & 3))) & 3) - 1; }
/** out[0 .. colsPadded) = x in the kernels' activation order, zero padded. */
void permuteActivations(const TernaryMatrix& m, const int8_t* x, int8_t* out);
/** The same, returning the sum of x[0 .. cols) (the products' xsum). */
int32_t permuteActivationsSum(const TernaryMatrix& m, const int8_t* x, int8_t* out);
// Per-ISA: `blocks` whole blocks of 4V bytes (V = 64 / 32), returning the sum of their bytes.
int32_t permuteBlocksAvx512(const int8_t* x, size_t blocks, int8_t* out);
int32_t permuteBlocksAvx2(const int8_t* x, size_t blocks, int8_t* out);

/**
 * out[b * rows + r] = sum_c w(r, c) * xq[b * colsPadded + c] for rows [r0, r1), b < batch.
 * xq rows are permuted (permuteActivations) and zero-padded to colsPadded; xsum[b] = sum of xq row b. With `idx`, positions r0..r1 of
 * idx name the rows to compute (the others are left as they are).
 */
void ternaryMatmulInt8(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx = nullptr);

/** Float64 product without activation quantization (scheme fp): sum in column order, like the reference. */
void ternaryMatvecF64(const TernaryMatrix& m, const double* x, double* out, size_t r0, size_t r1);

// Per-ISA entry points (kernels_*.cc).
void ternaryMatmulInt8Portable(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx = nullptr);
void ternaryMatmulInt8Avx2(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx = nullptr);
void ternaryMatmulInt8Avx512(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx = nullptr);
void ternaryMatmulInt8Neon(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx = nullptr);

// ---- full-precision LM head -------------------------------------------------------------------

/** out[v] = dot(h, E[v]) for v in [v0, v1); E rows are f16 bits (or f32 when f32 != null). */
void lmHeadF16(Isa isa, const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF32(Isa isa, const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF16Portable(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF16Avx2(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF16Avx512(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF32Portable(const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1);
void lmHeadF32Avx2(const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1);

// ---- decode attention (float32) -----------------------------------------------------------------

/**
 * Softmax attention of the ng query heads of one GQA group (q: ng rows of hd floats, already times
 * 1/sqrt(hd)) over n cached positions of their KV head (row s of K and V at k + s * stride,
 * v + s * stride): m[g] = max_s q_g.k_s, l[g] = sum_s e^(q_g.k_s - m[g]) and the unnormalized
 * out[g * hd + i] = sum_s e^(q_g.k_s - m[g]) v_s[i], so that chunks of positions can be merged
 * (flash-decoding). scores: scratch of ng * n floats. Float32 throughout; the summation order and
 * exp differ between paths (rounding only).
 */
void attendF32(Isa isa, const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l);
// Per-ISA paths, for hd % 16 == 0 (AVX2) and hd % 32 == 0 (AVX-512); attendF32 falls back otherwise.
void attendF32Portable(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l);
void attendF32Avx2(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l);
void attendF32Avx512(const float* q, size_t ng, const float* k, const float* v, size_t stride, size_t n, size_t hd, float* scores, float* out, float* m, float* l);

/** Exact f16 -> f32 (f16.ts). */
float halfToFloat(uint16_t h);

}  // namespace bitlens
