#version 450
// Decode attention for one query head per workgroup at position pos: RoPE on q and on the new k
// (cos / sin from a table the host computed in float64), the new k and v written to the cache (by
// the group's first head; the other heads use the workgroup's own copy for position pos, so no
// workgroup reads a cache row another one writes), softmax(q k^T / sqrt(hd)) v over positions 0..pos.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint MAXHD = 128;
layout(std430, binding = 0) readonly buffer Params { uint pos; uint token; float scale; int xsum; } P;
layout(std430, binding = 1) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 2) buffer KCache { float kc[]; };
layout(std430, binding = 3) buffer VCache { float vc[]; };
layout(std430, binding = 4) coherent buffer Scores { float sc[]; };
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

shared float qs[MAXHD];
shared float ks[MAXHD];
shared float vs[MAXHD];
shared float red[256];
shared float tile[256];

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
  uint h = gl_WorkGroupID.x, hd = pc.hd, half_ = hd / 2, kvh = h / pc.group;
  uint attn = pc.heads * hd, kvw = pc.kvHeads * hd, pos = P.pos;
  for (uint j = t; j < half_; j += 256) {
    float c = rope[(pos * half_ + j) * 2], s = rope[(pos * half_ + j) * 2 + 1];
    float q1 = qkv[h * hd + j], q2 = qkv[h * hd + j + half_];
    qs[j] = (q1 * c - q2 * s) * pc.invSqrtHd;
    qs[j + half_] = (q2 * c + q1 * s) * pc.invSqrtHd;
    float k1 = qkv[attn + kvh * hd + j], k2 = qkv[attn + kvh * hd + j + half_];
    ks[j] = k1 * c - k2 * s;
    ks[j + half_] = k2 * c + k1 * s;
  }
  for (uint i = t; i < hd; i += 256) vs[i] = qkv[attn + kvw + kvh * hd + i];
  barrier();
  if (h % pc.group == 0u) {
    for (uint i = t; i < hd; i += 256) {
      kc[(pos * pc.kvHeads + kvh) * hd + i] = ks[i];
      vc[(pos * pc.kvHeads + kvh) * hd + i] = vs[i];
    }
  }
  uint n = pos + 1, sOff = h * pc.maxPos;
  float mx = -1.0 / 0.0;
  for (uint p = t; p < n; p += 256) {
    float s = 0.0;
    if (p == pos) {
      for (uint i = 0; i < hd; i++) s += qs[i] * ks[i];
    } else {
      uint b = (p * pc.kvHeads + kvh) * hd;
      for (uint i = 0; i < hd; i++) s += qs[i] * kc[b + i];
    }
    sc[sOff + p] = s;
    mx = max(mx, s);
  }
  mx = reduceMax(mx);
  float sum = 0.0;
  for (uint p = t; p < n; p += 256) {
    float e = exp(sc[sOff + p] - mx);
    sc[sOff + p] = e;
    sum += e;
  }
  sum = reduceSum(sum);
  memoryBarrierBuffer();
  barrier();
  // o = sum_p e_p v_p, thread per dimension (head_dim <= 1024), the weights read through shared
  // memory in tiles of 256 positions (a coherent global load per position and dimension was slow).
  float o[4] = float[4](0.0, 0.0, 0.0, 0.0);
  for (uint c0 = 0; c0 < n; c0 += 256) {
    if (c0 + t < n) tile[t] = sc[sOff + c0 + t];
    barrier();
    uint len = min(256u, n - c0);
    for (uint r = 0; r < 4; r++) {
      uint i = t + 256 * r;
      if (i >= hd) break;
      float acc = 0.0;
      for (uint p = 0; p < len; p++) {
        uint at = c0 + p;
        acc += tile[p] * (at == pos ? vs[i] : vc[(at * pc.kvHeads + kvh) * hd + i]);
      }
      o[r] += acc;
    }
    barrier();
  }
  for (uint r = 0; r < 4; r++) {
    uint i = t + 256 * r;
    if (i < hd) outA[h * hd + i] = o[r] / sum;
  }
}
