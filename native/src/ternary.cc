// Kernel-layout repacking, run-time dispatch and the portable kernels (any CPU, any compiler).
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace bitlens {

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
    default: return "portable";
  }
}

#if defined(__x86_64__) || defined(_M_X64)
#define BITLENS_X86 1
#endif

bool isaSupported(Isa isa) {
  switch (isa) {
    case Isa::Portable: return true;
#if defined(BITLENS_X86) && defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#endif
#if defined(BITLENS_X86) && defined(BITLENS_HAVE_X86_KERNELS) && defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
#endif
#if defined(__aarch64__) && defined(BITLENS_HAVE_NEON_KERNELS)
    case Isa::Neon: return true;  // Advanced SIMD is mandatory on AArch64
#endif
    default: return false;
  }
}

Isa bestIsa() {
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon})
    if (isaSupported(isa)) return isa;
  return Isa::Portable;
}

std::vector<std::string> cpuFeatureNames() {
  std::vector<std::string> out;
  // __builtin_cpu_* are GCC/Clang builtins; the MSVC build (binding.gyp, portable kernels) lists none.
#if defined(BITLENS_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
#define BITLENS_FEATURE(name) \
  if (__builtin_cpu_supports(name)) out.push_back(name);
  BITLENS_FEATURE("sse4.2") BITLENS_FEATURE("avx") BITLENS_FEATURE("avx2") BITLENS_FEATURE("fma") BITLENS_FEATURE("f16c")
  BITLENS_FEATURE("avx512f") BITLENS_FEATURE("avx512bw") BITLENS_FEATURE("avx512vl") BITLENS_FEATURE("avx512vnni")
#undef BITLENS_FEATURE
#elif defined(__aarch64__)
  out.push_back("neon");
#if defined(__ARM_FEATURE_DOTPROD)
  out.push_back("dotprod");
#endif
#endif
  return out;
}

static int vectorBytes(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return 64;
    case Isa::Avx2: return 32;
    default: return 16;
  }
}

TernaryMatrix makeTernary(const uint8_t* packed, size_t rows, size_t cols, Isa isa) {
  if (cols % 4 != 0) throw std::invalid_argument("packed ternary needs cols % 4 == 0, got " + std::to_string(cols));
  TernaryMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.isa = isa;
  m.V = vectorBytes(isa);
  const size_t block = 4 * static_cast<size_t>(m.V), srcBytes = cols / 4;
  for (size_t i = 0; i < rows * srcBytes; i++) {
    const uint8_t b = packed[i];
    if (b & (b >> 1) & 0x55) {  // a 2-bit field is 3 exactly when both its bits are set
      size_t c = 4 * (i % srcBytes);
      while (((b >> (2 * (c & 3))) & 3) != 3) c++;
      throw std::invalid_argument("invalid ternary code 3 at row " + std::to_string(i / srcBytes) + ", column " + std::to_string(c));
    }
  }
  m.colsPadded = (cols + block - 1) / block * block;
  m.rowBytes = m.colsPadded / 4;
  if (m.colsPadded == cols) {
    m.base = packed;
    return m;
  }
  // Padding columns get code 1 (w = 0); their activations are zero anyway.
  m.owned.assign(rows * m.rowBytes, 0x55);
  for (size_t r = 0; r < rows; r++) std::memcpy(m.owned.data() + r * m.rowBytes, packed + r * srcBytes, srcBytes);
  m.base = m.owned.data();
  return m;
}

int32_t permuteActivationsSum(const TernaryMatrix& m, const int8_t* x, int8_t* out) {
  const size_t V = m.V, block = 4 * V, whole = m.cols / block;
  size_t k = 0;
  int32_t sum = 0;
  switch (m.isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512: sum = permuteBlocksAvx512(x, whole, out), k = whole * block; break;
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2: sum = permuteBlocksAvx2(x, whole, out), k = whole * block; break;
#endif
    default: break;
  }
  for (; k < m.colsPadded; k += block) {
    for (size_t j = 0; j < V; j++) {
      for (size_t f = 0; f < 4; f++) {
        const size_t c = k + 4 * j + f;
        out[k + f * V + j] = c < m.cols ? x[c] : 0;
        if (c < m.cols) sum += x[c];
      }
    }
  }
  return sum;
}

void permuteActivations(const TernaryMatrix& m, const int8_t* x, int8_t* out) { permuteActivationsSum(m, x, out); }

void ternaryMatmulInt8Portable(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  const size_t V = m.V, nblk = m.colsPadded / (4 * V);
  for (size_t i = r0; i < r1; i++) {
    const size_t r = idx ? idx[i] : i;
    const uint8_t* w = m.row(r);
    for (size_t b = 0; b < batch; b++) {
      const int8_t* x = xq + b * m.colsPadded;
      int32_t acc = 0;
      for (size_t k = 0; k < nblk; k++) {
        const uint8_t* wb = w + k * V;
        const int8_t* xb = x + k * 4 * V;
        for (size_t j = 0; j < V; j++) {
          const unsigned byte = wb[j];
          acc += static_cast<int32_t>(byte & 3) * xb[j] + static_cast<int32_t>((byte >> 2) & 3) * xb[j + V] +
                 static_cast<int32_t>((byte >> 4) & 3) * xb[j + 2 * V] + static_cast<int32_t>(byte >> 6) * xb[j + 3 * V];
        }
      }
      out[b * m.rows + r] = acc - xsum[b];
    }
  }
}

void ternaryMatmulInt8(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  switch (m.isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512: return ternaryMatmulInt8Avx512(m, xq, xsum, batch, out, r0, r1, idx);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2: return ternaryMatmulInt8Avx2(m, xq, xsum, batch, out, r0, r1, idx);
#endif
#if defined(BITLENS_HAVE_NEON_KERNELS)
    case Isa::Neon: return ternaryMatmulInt8Neon(m, xq, xsum, batch, out, r0, r1, idx);
#endif
    default: return ternaryMatmulInt8Portable(m, xq, xsum, batch, out, r0, r1, idx);
  }
}

void ternaryMatvecF64(const TernaryMatrix& m, const double* x, double* out, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    double s = 0;
    for (size_t c = 0; c < m.cols; c++) s += x[c] * ternaryAt(m, r, c);
    out[r] = s;
  }
}

float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {
    exp = 113;
    while (!(man & 0x400)) {
      man <<= 1;
      exp--;
    }
    bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void lmHeadF16Portable(const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const uint16_t* e = e16 + v * d;
    float s = 0;
    for (size_t i = 0; i < d; i++) s += h[i] * halfToFloat(e[i]);
    out[v] = s;
  }
}

void lmHeadF32Portable(const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1) {
  for (size_t v = v0; v < v1; v++) {
    const float* e = e32 + v * d;
    float s = 0;
    for (size_t i = 0; i < d; i++) s += h[i] * e[i];
    out[v] = s;
  }
}

void lmHeadF16(Isa isa, const uint16_t* e16, size_t d, const float* h, float* out, size_t v0, size_t v1) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
  if (isa == Isa::Avx512) return lmHeadF16Avx512(e16, d, h, out, v0, v1);
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
  if (isa == Isa::Avx2 || isa == Isa::Avx512) return lmHeadF16Avx2(e16, d, h, out, v0, v1);
#endif
  (void)isa;
  lmHeadF16Portable(e16, d, h, out, v0, v1);
}

void lmHeadF32(Isa isa, const float* e32, size_t d, const float* h, float* out, size_t v0, size_t v1) {
#if defined(BITLENS_HAVE_X86_KERNELS)
  if (isa == Isa::Avx512 || isa == Isa::Avx2) return lmHeadF32Avx2(e32, d, h, out, v0, v1);
#endif
  (void)isa;
  lmHeadF32Portable(e32, d, h, out, v0, v1);
}

}  // namespace bitlens
