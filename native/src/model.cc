#include "model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace bitlens {
namespace {

double nowMs() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Element-wise loops: the SIMD path of `isa` (kernels.h: the same operations per element, so the
// same bits) for the first n / 8 * 8 elements, the rest here.
template <typename Avx512, typename Avx2>
size_t simdPrefix(Isa isa, size_t n, Avx512 avx512, Avx2 avx2) {
  switch (isa) {
#if defined(BITLENS_HAVE_AVX512_KERNELS)
    case Isa::Avx512: avx512(n / 8 * 8); return n / 8 * 8;
#endif
#if defined(BITLENS_HAVE_X86_KERNELS)
    case Isa::Avx2: avx2(n / 8 * 8); return n / 8 * 8;
#endif
    default: (void)avx512, (void)avx2; return 0;
  }
}

/** y[i] = double(a[i]) * s. */
void scaleInt32(Isa isa, const int32_t* a, size_t n, double s, double* y) {
  size_t i = simdPrefix(isa, n, [&](size_t m) { scaleInt32Avx512(a, m, s, y); }, [&](size_t m) { scaleInt32Avx2(a, m, s, y); });
  for (; i < n; i++) y[i] = static_cast<double>(a[i]) * s;
}

/** RMSNorm(x) * w, as reference.ts: x / sqrt(mean(x^2) + eps) * w with (x * inv) * w (out may be x). */
void rmsNorm(const double* x, const float* w, size_t n, double eps, double* out, Isa isa) {
  double ss = 0;
  for (size_t i = 0; i < n; i++) ss += x[i] * x[i];
  const double inv = 1 / std::sqrt(ss / static_cast<double>(n) + eps);
  size_t i = simdPrefix(isa, n, [&](size_t m) { normScaleAvx512(x, m, inv, w, out); }, [&](size_t m) { normScaleAvx2(x, m, inv, w, out); });
  for (; i < n; i++) out[i] = x[i] * inv * static_cast<double>(w[i]);
}

/**
 * max(x, 0) as bit operations (+0 for every negative x, -0 included, where r * r is +0 anyway): the
 * compiler vectorizes this, while x > 0 ? x : 0 compiled to a branch that the sign of the gate
 * output defeats (~1.5 ms/token on the 2B shape).
 */
inline double relu(double x) {
  int64_t b;
  std::memcpy(&b, &x, 8);
  b &= ~(b >> 63);
  std::memcpy(&x, &b, 8);
  return x;
}

/** cs[2j], cs[2j + 1] = cos, sin of position p's angle for dimension pair j (the same in every layer). */
void ropeAngles(size_t headDim, size_t p, double theta, double* cs) {
  for (size_t j = 0; j < headDim / 2; j++) {
    const double angle = static_cast<double>(p) * std::pow(theta, (-2.0 * static_cast<double>(j)) / static_cast<double>(headDim));
    cs[2 * j] = std::cos(angle);
    cs[2 * j + 1] = std::sin(angle);
  }
}

void rope(double* x, size_t heads, size_t headDim, const double* cs) {
  const size_t half = headDim / 2;
  for (size_t j = 0; j < half; j++) {
    const double c = cs[2 * j], s = cs[2 * j + 1];
    for (size_t h = 0; h < heads; h++) {
      const size_t a = h * headDim + j;
      const double x1 = x[a], x2 = x[a + half];
      x[a] = x1 * c - x2 * s;
      x[a + half] = x2 * c + x1 * s;
    }
  }
}

/**
 * Asks Linux to back the ternary weights with 2 MiB pages (MADV_HUGEPAGE, then MADV_COLLAPSE to do
 * it now rather than in khugepaged's own time). Every product streams the weights once per token,
 * and with 2 MiB pages it ran 35-50% faster (measured on Zen 4 under KVM: a TLB miss every
 * 4 KiB, and the hardware prefetcher stops at page boundaries). Only whole 2 MiB-aligned spans of
 * the weight ranges (adjacent tensors of the model file merged) are advised; the contents do not
 * change, and a kernel without these calls (or with THP off) just keeps small pages.
 */
void adviseHugePages(std::vector<std::pair<uintptr_t, uintptr_t>> ranges) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = 2u << 20;
  constexpr int kCollapse = 25;  // MADV_COLLAPSE (Linux 6.1), absent from older headers
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uintptr_t, uintptr_t>> merged;
  for (const auto& r : ranges) {
    // Tensors of one file lie a few bytes (norm vectors, alignment) apart: one span.
    if (!merged.empty() && r.first <= merged.back().second + 65536) merged.back().second = std::max(merged.back().second, r.second);
    else merged.push_back(r);
  }
  for (const auto& r : merged) {
    const uintptr_t b = (r.first + kHuge - 1) & ~(kHuge - 1), e = r.second & ~(kHuge - 1);
    if (b >= e) continue;
    if (madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE) == 0) madvise(reinterpret_cast<void*>(b), e - b, kCollapse);
  }
#else
  (void)ranges;
#endif
}

}  // namespace

Model::Model(ModelConfig c, RunConfig run, std::vector<Layer> layers, std::vector<float> norm, const uint16_t* embedF16, const float* embedF32,
             const uint16_t* headF16, const float* headF32)
    : c_(c), run_(run), layers_(std::move(layers)), norm_(std::move(norm)), embedF16_(embedF16), embedF32_(embedF32),
      // A tied head is the embedding table.
      headF16_(headF16 || headF32 ? headF16 : embedF16), headF32_(headF16 || headF32 ? headF32 : embedF32) {
  if (run_.hadamard) {
    hadAttn_ = hadamardPlan(c_.heads * c_.headDim, run_.isa);
    hadFfn_ = hadamardPlan(c_.ffn, run_.isa);
  }
  pool_ = std::make_unique<ThreadPool>(run_.threads);
  parallel_ = [this](size_t n, const std::function<void(size_t, size_t)>& fn, size_t align) { pool_->parallelFor(n, fn, align); };
  kCache_.resize(c_.layers);
  vCache_.resize(c_.layers);
  sparseUp_.assign(c_.layers, 1);
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (const Layer& l : layers_)
    for (const Linear* lin : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) {
      const uintptr_t b = reinterpret_cast<uintptr_t>(lin->w.base);
      ranges.emplace_back(b, b + lin->w.rows * lin->w.rowBytes);
    }
  adviseHugePages(std::move(ranges));
}

size_t Model::weightBytes() const {
  size_t n = 0;
  for (const Layer& l : layers_)
    for (const Linear* lin : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) n += lin->w.owned.size();
  return n;
}

void Model::ensureKv(size_t positions) {
  if (positions <= kvCap_) return;
  size_t cap = std::max<size_t>(kvCap_ * 2, 64);
  cap = std::min(std::max(cap, positions), c_.maxPos);
  const size_t width = c_.kvHeads * c_.headDim;
  for (size_t l = 0; l < c_.layers; l++) {
    kCache_[l].resize(cap * width);
    vCache_[l].resize(cap * width);
  }
  kvCap_ = cap;
}

void Model::storeKv(std::vector<float>& cache, size_t p, const double* x) {
  const size_t hd = c_.headDim;
  const int bits = run_.kvBits == 16 ? 16 : p == 0 ? 8 : run_.kvBits;
  int8_t q[1024];
  for (size_t h = 0; h < c_.kvHeads; h++) {
    float* dst = cache.data() + (p * c_.kvHeads + h) * hd;
    const double* src = x + h * hd;
    if (bits == 16) {
      for (size_t i = 0; i < hd; i++) dst[i] = static_cast<float>(src[i]);
    } else {
      const double scale = quantKv(src, hd, bits, q);
      for (size_t i = 0; i < hd; i++) dst[i] = static_cast<float>(q[i] * scale);
    }
  }
}

// y[t * rows + r] = BitLinear(x[t * cols ..]) for T tokens and every output of `outs` (projections
// of the same input: q, k, v or gate): quantize every token once, one integer product over the
// batch and all outputs in a single parallel region (the weights stream from memory once), then
// * scale * alpha. With `active` (one output, quantized site), only those rows are computed and the
// others are 0.
void Model::linear(std::initializer_list<Out> outs, SiteQuant site, const std::vector<double>& x, size_t T, size_t cols,
                   const std::vector<uint32_t>* active, const double* absSum) {
  if (site == SiteQuant::None) {
    for (const Out& o : outs) {
      const size_t rows = o.lin->w.rows;
      o.y->assign(T * rows, 0);
      for (size_t t = 0; t < T; t++) {
        double* yt = o.y->data() + t * rows;
        const double* xt = x.data() + t * cols;
        pool_->parallelFor(rows, [&](size_t r0, size_t r1) { ternaryMatvecF64(o.lin->w, xt, yt, r0, r1); });
        for (size_t r = 0; r < rows; r++) yt[r] *= o.lin->alpha;
      }
    }
    return;
  }
  double t0 = nowMs();
  const TernaryMatrix& m0 = outs.begin()->lin->w;  // same cols and path for all outputs
  const size_t cp = m0.colsPadded;
  xq_.resize(T * cp);
  qtmp_.resize(cols);
  xsum_.resize(T);
  xscale_.resize(T);
  for (size_t t = 0; t < T; t++) {
    int8_t* q = qtmp_.data();
    const double* xt = x.data() + t * cols;
    switch (site) {
      case SiteQuant::Int8: xscale_[t] = quantInt8Absmax(xt, cols, q, run_.isa); break;
      case SiteQuant::Int4: xscale_[t] = absSum ? quantInt4Absmean(xt, cols, absSum[t], q, run_.isa) : quantInt4Absmean(xt, cols, q, run_.isa); break;
      default: xscale_[t] = quantInt8Top50(xt, cols, q, run_.isa); break;
    }
    xsum_[t] = permuteActivationsSum(m0, q, xq_.data() + t * cp);
  }
  double t1 = nowMs();
  prof_.quant += t1 - t0;
  const size_t n = outs.size();
  const Out* o = outs.begin();
  accs_.resize(std::max(accs_.size(), n));
  if (active) {
    const TernaryMatrix& m = o[0].lin->w;
    accs_[0].assign(T * m.rows, 0);
    const uint32_t* idx = active->data();
    pool_->parallelFor(active->size(), [&](size_t r0, size_t r1) { ternaryMatmulInt8(m, xq_.data(), xsum_.data(), T, accs_[0].data(), r0, r1, idx); }, 16);
  } else {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
      accs_[i].resize(T * o[i].lin->w.rows);
      total += o[i].lin->w.rows;
    }
    // Prefill: tokens in chunks whose int8 rows fit in L2 next to the weights being reused.
    const size_t chunk = std::max<size_t>(1, (192u << 10) / cp);
    for (size_t tc = 0; tc < T; tc += chunk) {
      const size_t nb = std::min(chunk, T - tc);
      pool_->parallelFor(total, [&](size_t r0, size_t r1) {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
          const TernaryMatrix& m = o[i].lin->w;
          const size_t b = std::max(r0, off), e = std::min(r1, off + m.rows);
          if (b < e) ternaryMatmulInt8(m, xq_.data() + tc * cp, xsum_.data() + tc, nb, accs_[i].data() + tc * m.rows, b - off, e - off);
          off += m.rows;
        }
      }, 16);
    }
  }
  prof_.matmul += nowMs() - t1;
  for (size_t i = 0; i < n; i++) {
    const size_t rows = o[i].lin->w.rows;
    o[i].y->resize(T * rows);
    for (size_t t = 0; t < T; t++) {
      const double post = xscale_[t] * o[i].lin->alpha;
      scaleInt32(run_.isa, &accs_[i][t * rows], rows, post, o[i].y->data() + t * rows);
    }
  }
}

void Model::forward(const std::vector<int32_t>& ids, float* logits) {
  const size_t T = ids.size();
  if (T == 0) throw std::invalid_argument("forward() needs at least one token");
  if (pos_ + T > c_.maxPos) {
    throw std::invalid_argument("context length " + std::to_string(c_.maxPos) + " exceeded: " + std::to_string(pos_) + " cached + " +
                                std::to_string(T) + " new tokens");
  }
  for (int32_t id : ids)
    if (id < 0 || static_cast<size_t>(id) >= c_.vocab)
      throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary (" + std::to_string(c_.vocab) + ")");
  ensureKv(pos_ + T);
  const double tStart = nowMs();
  const Profile before = prof_;
  const size_t d = c_.d, H = c_.heads, KVH = c_.kvHeads, hd = c_.headDim, attn = H * hd, kvw = KVH * hd, F = c_.ffn;
  const size_t group = H / KVH, last = T - 1;
  const Isa isa = run_.isa;
  // The float64 H_K step over the pool only from 4 threads: on 16 cores the serial transform was ~4 ms
  // of a 16 ms v2-a4 token; on 2 threads splitting it measured a wash (-0.13 ms quiet, +0.37 ms loaded),
  // and since the serial step carries the absmean sum below, 1.5% slower per token.
  const ParallelFor* hadamardSplit = run_.threads >= 4 ? &parallel_ : nullptr;
  // Serially, an INT4 site after a Hadamard gets its absmean sum from the transform (computed beside
  // the H_K step instead of as a serial pass of its own).
  const bool sumO = run_.hadamard && !hadamardSplit && run_.sites[kO] == SiteQuant::Int4;
  const bool sumDown = run_.hadamard && !hadamardSplit && run_.sites[kDown] == SiteQuant::Int4;
  act_.absSum.resize(T);

  std::vector<double>&hs = act_.hs, &x = act_.x, &q = act_.q, &k = act_.k, &v = act_.v, &a = act_.a, &o = act_.o, &g = act_.g, &u = act_.u, &mlp = act_.mlp,
                      &dn = act_.dn, &act = act_.act, &tmp = act_.tmp;
  hs.resize(T * d);
  x.resize(T * d);
  a.resize(T * attn);
  mlp.resize(T * F);
  act.resize(F);
  tmp.resize(attn);
  act_.rope.resize(T * hd);
  for (size_t t = 0; t < T; t++) ropeAngles(hd, pos_ + t, c_.theta, &act_.rope[t * hd]);
  for (size_t t = 0; t < T; t++)
    for (size_t i = 0; i < d; i++)
      hs[t * d + i] = embedF16_ ? halfToFloat(embedF16_[ids[t] * d + i]) : embedF32_[ids[t] * d + i];
  if (run_.taps) taps_.assign(c_.layers, LayerTaps());
  const double sqrtHd = std::sqrt(static_cast<double>(hd));
  std::vector<float>& parts = act_.parts;

  for (size_t li = 0; li < c_.layers; li++) {
    const Layer& L = layers_[li];
    LayerTaps* tap = run_.taps ? &taps_[li] : nullptr;
    for (size_t t = 0; t < T; t++) rmsNorm(&hs[t * d], L.inputNorm.data(), d, c_.eps, &x[t * d], run_.isa);
    if (tap) tap->qkv.assign(&x[last * d], &x[last * d] + d);
    linear({{&L.q, &q}, {&L.k, &k}, {&L.v, &v}}, run_.sites[kQkv], x, T, d);
    for (size_t t = 0; t < T; t++) {
      rope(&q[t * attn], H, hd, &act_.rope[t * hd]);
      rope(&k[t * kvw], KVH, hd, &act_.rope[t * hd]);
      storeKv(kCache_[li], pos_ + t, &k[t * kvw]);
      storeKv(vCache_[li], pos_ + t, &v[t * kvw]);
    }
    // Attention in float32 over chunks of kChunk positions (attendF32: the query heads of a GQA
    // group share each K/V load), whose partial softmaxes (max, sum, unnormalized output) are merged
    // in float64 (flash-decoding). Chunk bounds depend only on the position, so the bits do not
    // depend on the thread count or on how a prompt is split into forward() calls. Jobs are
    // (token, KV head) pairs, or single chunks when there are too few pairs to keep the threads busy
    // (decoding has only KVH pairs).
    double ta = nowMs();
    const float* kc = kCache_[li].data();
    const float* vc = vCache_[li].data();
    constexpr size_t kChunk = 64;
    const double invSqrtHd = 1 / sqrtHd;
    const size_t partW = hd + 2, maxChunks = (pos_ + T + kChunk - 1) / kChunk, pairs = T * KVH;
    const bool split = pairs < 4 * static_cast<size_t>(pool_->size()) && maxChunks > 1;
    // Chunk c of token t and KV head kvh: partials of the group's heads at part + g * partW.
    const auto chunk = [&](size_t t, size_t kvh, size_t c, float* part) {
      thread_local std::vector<float> qf, out, scores, m, l;
      qf.resize(group * hd);
      out.resize(group * hd);
      m.resize(group);
      l.resize(group);
      const size_t n = pos_ + t + 1, s0 = c * kChunk, len = std::min(n - s0, kChunk);
      const double* qt = &q[t * attn + kvh * group * hd];
      // A multiply, not a division: this runs per chunk (~1200 times per decoded token on the 2B shape).
      for (size_t i = 0; i < group * hd; i++) qf[i] = static_cast<float>(qt[i] * invSqrtHd);
      scores.resize(group * len);
      attendF32(isa, qf.data(), group, kc + (s0 * KVH + kvh) * hd, vc + (s0 * KVH + kvh) * hd, KVH * hd, len, hd, scores.data(), out.data(), m.data(), l.data());
      for (size_t g = 0; g < group; g++) {
        float* pg = part + g * partW;
        pg[0] = m[g];
        pg[1] = l[g];
        std::copy(&out[g * hd], &out[g * hd] + hd, pg + 2);
      }
    };
    // Head h of token t from its chunks' partials (part + c * stride).
    const auto merge = [&](size_t t, size_t h, const float* part, size_t stride) {
      const size_t nc = (pos_ + t + kChunk) / kChunk;
      double mx = -INFINITY, sum = 0;
      for (size_t c = 0; c < nc; c++) mx = std::max(mx, static_cast<double>(part[c * stride]));
      double* at = &a[t * attn + h * hd];
      std::fill(at, at + hd, 0.0);
      for (size_t c = 0; c < nc; c++) {
        const float* pc = part + c * stride;
        const double w = std::exp(pc[0] - mx);
        sum += w * pc[1];
        for (size_t i = 0; i < hd; i++) at[i] += w * pc[2 + i];
      }
      for (size_t i = 0; i < hd; i++) at[i] /= sum;
    };
    if (split) {
      // parts[(t * KVH + kvh) * maxChunks + c] holds the group's partials of that chunk.
      parts.resize(pairs * maxChunks * group * partW);
      const size_t cs = group * partW;
      pool_->parallelFor(pairs * maxChunks, [&](size_t j0, size_t j1) {
        for (size_t j = j0; j < j1; j++) {
          const size_t t = j / (KVH * maxChunks), kvh = j / maxChunks % KVH, c = j % maxChunks;
          if (c * kChunk <= pos_ + t) chunk(t, kvh, c, &parts[j * cs]);
        }
      });
      pool_->parallelFor(T * H, [&](size_t j0, size_t j1) {
        for (size_t j = j0; j < j1; j++) {
          const size_t t = j / H, h = j % H;
          merge(t, h, &parts[((t * KVH + h / group) * maxChunks) * cs + h % group * partW], cs);
        }
      });
    } else {
      pool_->parallelFor(pairs, [&](size_t j0, size_t j1) {
        thread_local std::vector<float> own;
        for (size_t j = j0; j < j1; j++) {
          const size_t t = j / KVH, kvh = j % KVH, nc = (pos_ + t + kChunk) / kChunk, cs = group * partW;
          own.resize(nc * cs);
          for (size_t c = 0; c < nc; c++) chunk(t, kvh, c, &own[c * cs]);
          for (size_t g = 0; g < group; g++) merge(t, kvh * group + g, &own[g * partW], cs);
        }
      });
    }
    prof_.attention += nowMs() - ta;
    for (size_t t = 0; t < T; t++) {
      rmsNorm(&a[t * attn], L.attnSubNorm.data(), attn, c_.eps, tmp.data(), run_.isa);
      if (tap && t == last && run_.hadamard) tap->oPre = tmp;
      if (run_.hadamard) hadamardTransform(hadAttn_, tmp.data(), &a[t * attn], false, hadamardSplit, sumO ? &act_.absSum[t] : nullptr);
      else std::copy(tmp.begin(), tmp.end(), &a[t * attn]);
    }
    if (tap) tap->o.assign(&a[last * attn], &a[last * attn] + attn);
    linear({{&L.o, &o}}, run_.sites[kO], a, T, attn, nullptr, sumO ? act_.absSum.data() : nullptr);
    for (size_t i = 0; i < T * d; i++) hs[i] += o[i];

    for (size_t t = 0; t < T; t++) rmsNorm(&hs[t * d], L.postAttnNorm.data(), d, c_.eps, &x[t * d], run_.isa);
    if (tap) tap->gateup.assign(&x[last * d], &x[last * d] + d);
    // relu2glu: relu(g)^2 * u is 0 wherever g <= 0, whatever u is, so during decoding only the rows
    // of W_up with g > 0 are needed (exact; about half the rows on random weights, few of them on
    // trained BitNet models, where the gate output is sparse). Scattered rows stream from memory at
    // about a third of the speed of contiguous ones (measured on Zen 4: ~6.5 against ~19 GB/s per
    // thread), so with more than a third of the rows active the whole matrix is computed, in the
    // same parallel region as W_gate. Which way a layer goes is decided from its previous token
    // (both give the same result).
    const bool mayskip = c_.relu2 && T == 1 && run_.sites[kGateUp] != SiteQuant::None;
    const auto countActive = [&] {
      // Branch-free: g > 0 is a coin flip on random weights.
      active_.resize(F);
      size_t n = 0;
      for (size_t i = 0; i < F; i++) {
        active_[n] = static_cast<uint32_t>(i);
        n += g[i] > 0;
      }
      active_.resize(n);
      return n * 3 <= F;
    };
    if (mayskip && sparseUp_[li]) {
      linear({{&L.gate, &g}}, run_.sites[kGateUp], x, T, d);
      sparseUp_[li] = countActive();
      linear({{&L.up, &u}}, run_.sites[kGateUp], x, T, d, sparseUp_[li] ? &active_ : nullptr);
    } else {
      linear({{&L.gate, &g}, {&L.up, &u}}, run_.sites[kGateUp], x, T, d);
      if (mayskip) {
        // Only the count decides the next token's way (the index list's loop, whose stores depend
        // on the running count, took ~5 us a layer on the 2B shape).
        sparseUp_[li] = countPositive(g.data(), F, isa) * 3 <= F;
      }
    }
    for (size_t t = 0; t < T; t++) {
      const double* gt = &g[t * F];
      const double* ut = &u[t * F];
      if (c_.relu2) {
        double* at = act.data();
        size_t i = simdPrefix(isa, F, [&](size_t m) { relu2GluAvx512(gt, ut, m, at); }, [&](size_t m) { relu2GluAvx2(gt, ut, m, at); });
        for (; i < F; i++) {
          const double r = relu(gt[i]);
          at[i] = r * r * ut[i];
        }
      } else {
        for (size_t i = 0; i < F; i++) act[i] = gt[i] / (1 + std::exp(-gt[i])) * ut[i];
      }
      double* m = &mlp[t * F];
      if (run_.hadamard) {
        // Normalized in place, then transformed into m (act is scratch from here on).
        rmsNorm(act.data(), L.ffnSubNorm.data(), F, c_.eps, act.data(), run_.isa);
        if (tap && t == last) tap->downPre = act;
        hadamardTransform(hadFfn_, act.data(), m, false, hadamardSplit, sumDown ? &act_.absSum[t] : nullptr);
      } else {
        rmsNorm(act.data(), L.ffnSubNorm.data(), F, c_.eps, m, run_.isa);
      }
    }
    if (tap) tap->down.assign(&mlp[last * F], &mlp[last * F] + F);
    linear({{&L.down, &dn}}, run_.sites[kDown], mlp, T, F, nullptr, sumDown ? act_.absSum.data() : nullptr);
    for (size_t i = 0; i < T * d; i++) hs[i] += dn[i];
  }
  pos_ += T;

  std::vector<double>& hn = act_.hn;
  std::vector<float>& hf = act_.hf;
  hn.resize(d);
  rmsNorm(&hs[last * d], norm_.data(), d, c_.eps, hn.data(), run_.isa);
  hf.assign(hn.begin(), hn.end());
  const double th = nowMs();
  std::optional<HeadRequest> req = std::move(headReq_);
  headReq_.reset();
  if (head8_ && req) head8_->screened(*pool_, hf.data(), *req, logits);
  else pool_->parallelFor(c_.vocab, [&](size_t v0, size_t v1) {
    if (headF16_) lmHeadF16(isa, headF16_, d, hf.data(), logits, v0, v1);
    else lmHeadF32(isa, headF32_, d, hf.data(), logits, v0, v1);
  });
  prof_.lmHead += nowMs() - th;
  prof_.other += (th - tStart) - (prof_.quant - before.quant) - (prof_.matmul - before.matmul) - (prof_.attention - before.attention);
}

void Model::enableScreenedHead(LmHeadMode mode) {
  head8_ = std::make_unique<LmHeadInt8>(headF16_, headF32_, c_.vocab, c_.d, run_.isa, mode, *pool_);
}

}  // namespace bitlens
