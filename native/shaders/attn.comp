#version 450
// Decode attention for one query head per workgroup at position pos: RoPE on q and on the new k
// (cos / sin from a table the host computed in float64), the new k and v written to the cache (by
// the group's first head; the other heads use the workgroup's own copy for position pos, so no
// workgroup reads a cache row another one writes), softmax(q k^T / sqrt(hd)) v over positions
// 0..pos in chunks of 256 positions whose scores sit in shared memory (online softmax across chunks).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HD = 128;  // head_dim
const uint CHUNK = 256;
const uint DIMS = (HD + 255) / 256;  // output dimensions per thread
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; } P;
layout(std430, binding = 1) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 2) buffer KCache { float kc[]; };
layout(std430, binding = 3) buffer VCache { float vc[]; };
layout(std430, binding = 5) writeonly buffer Out { float outA[]; };
layout(std430, binding = 6) readonly buffer Rope { float rope[]; };
layout(push_constant) uniform Push {
  uint heads;
  uint kvHeads;
  uint hd;
  uint group;
  uint maxPos;
  float invSqrtHd;
} pc;

shared float qs[HD];
shared float ks[HD];
shared float vs[HD];
shared float sc[CHUNK];
shared float red[256];

float reduceSum(float v) {
  uint t = gl_LocalInvocationID.x;
  red[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

float reduceMax(float v) {
  uint t = gl_LocalInvocationID.x;
  red[t] = v;
  barrier();
  for (uint s = 128; s > 0; s >>= 1) {
    if (t < s) red[t] = max(red[t], red[t + s]);
    barrier();
  }
  float r = red[0];
  barrier();
  return r;
}

void main() {
  uint t = gl_LocalInvocationID.x;
  uint h = gl_WorkGroupID.x, half_ = HD / 2, kvh = h / pc.group, kvHeads = pc.kvHeads;
  uint attn = pc.heads * HD, kvw = kvHeads * HD, pos = P.pos;
  for (uint j = t; j < half_; j += 256) {
    float c = rope[(pos * half_ + j) * 2], s = rope[(pos * half_ + j) * 2 + 1];
    float q1 = qkv[h * HD + j], q2 = qkv[h * HD + j + half_];
    qs[j] = (q1 * c - q2 * s) * pc.invSqrtHd;
    qs[j + half_] = (q2 * c + q1 * s) * pc.invSqrtHd;
    float k1 = qkv[attn + kvh * HD + j], k2 = qkv[attn + kvh * HD + j + half_];
    ks[j] = k1 * c - k2 * s;
    ks[j + half_] = k2 * c + k1 * s;
  }
  for (uint i = t; i < HD; i += 256) vs[i] = qkv[attn + kvw + kvh * HD + i];
  barrier();
  if (h % pc.group == 0u) {
    for (uint i = t; i < HD; i += 256) {
      kc[(pos * kvHeads + kvh) * HD + i] = ks[i];
      vc[(pos * kvHeads + kvh) * HD + i] = vs[i];
    }
  }
  float m = -1.0 / 0.0, l = 0.0;
  float o[DIMS];
  for (uint r = 0; r < DIMS; r++) o[r] = 0.0;
  uint n = pos + 1;
  for (uint c0 = 0; c0 < n; c0 += CHUNK) {
    uint len = min(CHUNK, n - c0);
    float cm = -1.0 / 0.0;
    for (uint p = t; p < len; p += 256) {
      uint at = c0 + p;
      float s = 0.0;
      if (at == pos) {
        for (uint i = 0; i < HD; i++) s += qs[i] * ks[i];
      } else {
        uint b = (at * kvHeads + kvh) * HD;
        for (uint i = 0; i < HD; i++) s += qs[i] * kc[b + i];
      }
      sc[p] = s;
      cm = max(cm, s);
    }
    float mNew = max(m, reduceMax(cm));
    float corr = exp(m - mNew);
    float part = 0.0;
    for (uint p = t; p < len; p += 256) {
      float e = exp(sc[p] - mNew);
      sc[p] = e;
      part += e;
    }
    l = l * corr + reduceSum(part);  // its barriers also publish sc
    for (uint r = 0; r < DIMS; r++) {
      uint i = t + 256 * r;
      if (i >= HD) break;
      float acc = 0.0;
      for (uint p = 0; p < len; p++) {
        uint at = c0 + p;
        acc += sc[p] * (at == pos ? vs[i] : vc[(at * kvHeads + kvh) * HD + i]);
      }
      o[r] = o[r] * corr + acc;
    }
    m = mNew;
    barrier();
  }
  for (uint r = 0; r < DIMS; r++) {
    uint i = t + 256 * r;
    if (i < HD) outA[h * HD + i] = o[r] / l;
  }
}
