// NEON kernel (AArch64): widen the codes and multiply-accumulate in int16/int32 (vmlal), portable
// across every ARMv8 core (the sdot instruction would need ARMv8.2 detection).
#include <arm_neon.h>

#include "kernels.h"

namespace bitlens {

void ternaryMatmulInt8Neon(const TernaryMatrix& m, const int8_t* xq, const int32_t* xsum, size_t batch, int32_t* out, size_t r0, size_t r1, const uint32_t* idx) {
  const size_t nblk = m.colsPadded / 64;
  const uint8x16_t mask = vdupq_n_u8(3);
  for (size_t i = r0; i < r1; i++) {
    const size_t r = idx ? idx[i] : i;
    const uint8_t* w = m.row(r);
    for (size_t b = 0; b < batch; b++) {
      const int8_t* x = xq + b * m.colsPadded;
      int32x4_t acc = vdupq_n_s32(0);
      for (size_t k = 0; k < nblk; k++) {
        const uint8x16_t v = vld1q_u8(w + k * 16);
        const int8_t* xb = x + k * 64;
        int16x8_t p = vdupq_n_s16(0);
        for (int s = 0; s < 4; s++) {
          const int8x16_t c = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(v, vdupq_n_s8(static_cast<int8_t>(-2 * s))), mask));
          const int8x16_t xv = vld1q_s8(xb + 16 * s);
          p = vmlal_s8(p, vget_low_s8(c), vget_low_s8(xv));
          p = vmlal_s8(p, vget_high_s8(c), vget_high_s8(xv));
        }
        acc = vpadalq_s16(acc, p);
      }
      out[b * m.rows + r] = vaddvq_s32(acc) - xsum[b];
    }
  }
}

}  // namespace bitlens
