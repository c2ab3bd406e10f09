#version 450
#extension GL_GOOGLE_include_directive : require
// Row r of h = embedding row of token r of the step (F16 pairs read as uint32, converted to float32).
layout(local_size_x = 256) in;
#include "params.glsl"
layout(std430, binding = 1) readonly buffer Table { uint table[]; };
layout(std430, binding = 2) writeonly buffer Hidden { float h[]; };
layout(push_constant) uniform Push { uint d; } pc;

void main() {
  uint i = gl_GlobalInvocationID.x, row = gl_WorkGroupID.y;
  uint pairs = pc.d / 2;
  if (i >= pairs || row >= P.count) return;
  vec2 v = unpackHalf2x16(table[P.rows[row].token * pairs + i]);
  h[row * pc.d + 2 * i] = v.x;
  h[row * pc.d + 2 * i + 1] = v.y;
}
