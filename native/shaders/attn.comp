#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
// Decode attention at position pos, split over positions (flash-decoding): workgroup (h, s) takes
// query head h and the s-th of SPLITS contiguous ranges of positions 0..pos, and writes the
// partial softmax of its range: m (max score), l (sum of exp(score - m)) and the unnormalised
// sum_p exp(score_p - m) v_p; prep.comp merges the SPLITS partials of each head (mode 3). RoPE on q
// and on the new k uses cos / sin from a table the host computed in float64. The new k and v go to
// the cache (written by workgroup (group's first head, 0); every workgroup uses its own copy for
// position pos, so none reads a cache row another one writes). Scores sit in shared memory in
// tiles of 256 positions (online softmax across tiles); a score is one subgroup's dot product (the
// lanes read consecutive floats of the cached k row), reductions are subgroup ones.
//
// A prompt chunk (batched prefill) runs two dispatches over its token rows (gl_WorkGroupID.y, at
// positions pos0 + row): phase 1 writes every row's rotated k and v to the cache (workgroup x = KV
// head), phase 2 is the attention above with position pos read from the cache too, so query row t
// sees positions <= pos0 + t, each score and sum in the order (and float expression) of phase 0,
// the decode step.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HD = 128;  // head_dim (<= 1024)
#include "params.glsl"
layout(std430, binding = 1) readonly buffer Qkv { float qkv[]; };
layout(std430, binding = 2) buffer KCache { float kc[]; };
layout(std430, binding = 3) buffer VCache { float vc[]; };
layout(std430, binding = 5) writeonly buffer Partial { float part[]; };  // [heads][splits][2 + HD]
layout(std430, binding = 6) readonly buffer Rope { float rope[]; };
layout(push_constant) uniform Push {
  uint heads;
  uint kvHeads;
  uint group;
  uint splits;
  float invSqrtHd;
  uint phase;  // 0: decode step; 1: write k, v of each row; 2: attention with k, v of pos cached
} pc;

shared float qs[HD];
shared float ks[HD];
shared float vs[HD];
shared float sc[256];
shared float red[256];

float reduceSum(float v) {
  v = subgroupAdd(v);
  barrier();  // the previous reduction's readers are done with red
  if (subgroupElect()) red[gl_SubgroupID] = v;
  barrier();
  float r = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r += red[i];
  return r;
}

float reduceMax(float v) {
  v = subgroupMax(v);
  barrier();
  if (subgroupElect()) red[gl_SubgroupID] = v;
  barrier();
  float r = -1.0 / 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) r = max(r, red[i]);
  return r;
}

void main() {
  uint row = gl_WorkGroupID.y;
  if (row >= P.count) return;
  uint t = gl_LocalInvocationID.x, phase = pc.phase;
  bool own = phase == 0u;  // k, v of position pos from this workgroup's copy rather than the cache
  uint h = phase == 1u ? gl_WorkGroupID.x * pc.group : gl_WorkGroupID.x / pc.splits, split = phase == 1u ? 0u : gl_WorkGroupID.x % pc.splits;
  uint half_ = HD / 2, kvh = h / pc.group, kvHeads = pc.kvHeads;
  uint attn = pc.heads * HD, kvw = kvHeads * HD, pos = P.pos0 + row, qb = row * (attn + 2 * kvw);
  for (uint j = t; j < half_; j += 256) {
    float c = rope[(pos * half_ + j) * 2], s = rope[(pos * half_ + j) * 2 + 1];
    float q1 = qkv[qb + h * HD + j], q2 = qkv[qb + h * HD + j + half_];
    qs[j] = (q1 * c - q2 * s) * pc.invSqrtHd;
    qs[j + half_] = (q2 * c + q1 * s) * pc.invSqrtHd;
    float k1 = qkv[qb + attn + kvh * HD + j], k2 = qkv[qb + attn + kvh * HD + j + half_];
    ks[j] = k1 * c - k2 * s;
    ks[j + half_] = k2 * c + k1 * s;
  }
  for (uint i = t; i < HD; i += 256) vs[i] = qkv[qb + attn + kvw + kvh * HD + i];
  barrier();
  if (phase == 1u || (own && h % pc.group == 0u && split == 0u)) {
    for (uint i = t; i < HD; i += 256) {
      kc[(pos * kvHeads + kvh) * HD + i] = ks[i];
      vc[(pos * kvHeads + kvh) * HD + i] = vs[i];
    }
  }
  if (phase == 1u) return;
  // This workgroup's positions [b, e) of 0..pos.
  uint n = pos + 1, per = (n + pc.splits - 1) / pc.splits;
  uint b = min(n, split * per), e = min(n, b + per);
  float m = -1.0 / 0.0, l = 0.0;
  float o[4] = float[4](0.0, 0.0, 0.0, 0.0);
  for (uint c0 = b; c0 < e; c0 += 256) {
    uint len = min(256u, e - c0);
    for (uint p = gl_SubgroupID; p < len; p += gl_NumSubgroups) {
      uint at = c0 + p, base = (at * kvHeads + kvh) * HD;
      float s = 0.0;
      for (uint i = gl_SubgroupInvocationID; i < HD; i += gl_SubgroupSize) s += qs[i] * (own && at == pos ? ks[i] : kc[base + i]);
      s = subgroupAdd(s);
      if (subgroupElect()) sc[p] = s;
    }
    barrier();
    float cm = t < len ? sc[t] : -1.0 / 0.0;
    float mNew = max(m, reduceMax(cm));
    float corr = exp(m - mNew);
    float ex = 0.0;
    if (t < len) {
      ex = exp(sc[t] - mNew);
      sc[t] = ex;
    }
    l = l * corr + reduceSum(ex);  // its barriers also publish sc
    // Positions before pos from the cache, pos itself from the workgroup's copy (phase 0) or the cache.
    uint lim = own ? pos : pos + 1u, cached = min(c0 + len, lim) - min(c0, lim);
    for (uint r = 0; r < 4; r++) {
      uint i = t + 256 * r;
      if (i < HD) {
        float acc = 0.0;
        for (uint p = 0; p < cached; p++) acc += sc[p] * vc[((c0 + p) * kvHeads + kvh) * HD + i];
        if (own && c0 + len > pos) acc += sc[pos - c0] * vs[i];
        o[r] = o[r] * corr + acc;
      }
    }
    m = mNew;
    barrier();
  }
  uint out0 = (row * pc.heads * pc.splits + h * pc.splits + split) * (2 + HD);
  if (t == 0u) {
    part[out0] = m;
    part[out0 + 1] = l;
  }
  for (uint r = 0; r < 4; r++) {
    uint i = t + 256 * r;
    if (i < HD) part[out0 + 2 + i] = o[r];
  }
}
