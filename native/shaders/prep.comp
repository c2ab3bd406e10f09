#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// A site's input as its own dispatch (prep.glsl), in one workgroup of as many invocations as the
// device allows (up to 1024): the latency of its strided loops is the cost.
layout(local_size_x_id = 1) in;
layout(constant_id = 0) const uint MAXN = 4096;  // widest input: the vector stays in shared memory
layout(constant_id = 1) const uint NT = 256;     // invocations (>= 256)
layout(constant_id = 2) const uint MAXHS = 1024; // heads x splits (mode 3)
layout(std430, binding = 0) buffer Params { uint pos; uint token; float scale; int xsum; } P;
layout(std430, binding = 2) writeonly buffer Xa { uvec4 xa[]; };
layout(std430, binding = 4) writeonly buffer Work { float work[]; };
layout(std430, binding = 5) readonly buffer Src { float src[]; };
layout(std430, binding = 6) readonly buffer Norms { float norms[]; };
layout(push_constant) uniform Push {
  uint n;        // width
  uint mode;     // input.glsl's
  uint normOff;  // offset of w in norms
  uint quant;    // 0: none (float out), 1: int8 absmax, 2: int4 absmean, 3: int8 absmax, then only
                 // the n/2 channels of largest |x| kept (a4.8's W_o input; ties: lower index)
  uint nv;       // gemv.comp's uvec4s per row (n / 64 rounded up)
  float eps;
  uint splits;   // mode 3
  uint headDim;  // mode 3
  uint stage;    // 0: norm + quantizer; 1: quantizer only
} pc;

#include "prep.glsl"

void main() { prepare(pc.n, pc.mode, pc.normOff, pc.quant, pc.nv, pc.eps, pc.splits, pc.headDim, pc.stage); }
