// The step's tokens (binding 0), shared by every shader: a decode step is one row; a prompt chunk
// (batched prefill) up to the chunk's size, at positions pos0, pos0 + 1, ... Per-row workgroups take
// row gl_WorkGroupID.y and leave when it is past count (the last chunk of a prompt may be short).
// prep.comp writes each row's quantizer scale and sum of codes; gemv.comp / gemm.comp read them.
struct Row {
  uint token;
  uint pad;
  float scale;
  int xsum;
};
layout(std430, binding = 0) buffer Params {
  uint count;
  uint pos0;
  uint pad0;
  uint pad1;
  Row rows[];
} P;
