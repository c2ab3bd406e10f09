#version 450
// h = embedding row of the step's token (F16 pairs read as uint32, converted to float32).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; float scale; int xsum; } P;
layout(std430, binding = 1) readonly buffer Table { uint table[]; };
layout(std430, binding = 2) writeonly buffer Hidden { float h[]; };
layout(push_constant) uniform Push { uint d; } pc;

void main() {
  uint i = gl_GlobalInvocationID.x;
  uint pairs = pc.d / 2;
  if (i >= pairs) return;
  vec2 v = unpackHalf2x16(table[P.token * pairs + i]);
  h[2 * i] = v.x;
  h[2 * i + 1] = v.y;
}
