// Vulkan structs are initialised as {sType} with the rest zero: the idiom, not a missing field.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include "vulkan_model.h"

#if defined(BITLENS_HAVE_VULKAN)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "../kernels.h"
#include "spirv.h"

namespace bitlens::vk {
namespace {

// gemv.comp reads a row as uvec4s of 64 columns.
size_t vecsOf(size_t cols) { return (cols + 63) / 64; }
size_t wordsOf(size_t cols) { return vecsOf(cols) * 4; }

uint32_t u32(size_t v, const char* what) {
  if (v > UINT32_MAX) throw std::invalid_argument(std::string("vulkan: ") + what + " does not fit in 32 bits");
  return static_cast<uint32_t>(v);
}

// A prep dispatch's taps offset when it writes no taps (prep.comp's NO_TAP).
constexpr uint32_t kNoTap = 0xffffffffu;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/** The rows of `l` as 16-column words, each row padded with code 1 (weight 0) to whole uvec4s (64 columns). */
void packRows(const LinearIn& l, uint8_t* dst) {
  const size_t rb = l.cols / 4, pb = wordsOf(l.cols) * 4;
  for (size_t r = 0; r < l.rows; r++) {
    std::memcpy(dst + r * pb, l.packed + r * rb, rb);
    std::memset(dst + r * pb + rb, 0x55, pb - rb);
  }
}

// Kernel kinds, for the per-kernel GPU times.
// With the Hadamard transform a site's input takes three dispatches: prep (hadp.comp: norm weight
// and H_P's butterflies, one workgroup per row of H_K), hadamard (hadk.comp: the H_K step and
// 1 / rms), quant (prep.comp: the quantizer).
enum Kernel {
  kEmbed, kPrepQkv, kGemvQkv, kAttention, kPrepO, kHadO, kQuantO, kGemvO, kPrepGateUp, kGemvGateUp, kPrepDown, kHadDown, kQuantDown, kGemvDown, kFinalNorm, kLmHead,
  kKernels
};
const char* const kKernelNames[kKernels] = {"embed",       "prep.qkv",    "gemv.qkv",      "attention",  "prep.o",    "hadamard.o",   "quant.o",  "gemv.o",
                                            "prep.gateup", "gemv.gateup", "prep.down",     "hadamard.down", "quant.down", "gemv.down", "final_norm", "lm_head"};

}  // namespace

Model::Model(const Config& c, const std::vector<LayerIn>& layers, const float* norm, const uint16_t* embedF16, const uint16_t* headF16)
    : ctx_(std::make_unique<Context>()), c_(c) {
  const size_t d = c.d, hd = c.headDim, attn = c.heads * hd, kvw = c.kvHeads * hd, F = c.ffn, L = c.layers;
  if (!d || !hd || hd > 1024 || !c.heads || !c.kvHeads || c.heads % c.kvHeads || hd % 2 || d % 2 || !c.vocab || !c.maxPos || layers.size() != L)
    throw std::invalid_argument("vulkan: inconsistent model configuration");
  const VkPhysicalDeviceLimits& lim = ctx_->properties().limits;
  const size_t maxN = std::max({d, attn, F});
  // prep.comp: one workgroup of as many invocations as the device allows (up to 1024).
  const uint32_t prepThreads = std::min<uint32_t>({1024u, lim.maxComputeWorkGroupInvocations, lim.maxComputeWorkGroupSize[0]});
  constexpr size_t kMaxHeadSplits = 1024;  // the attention merge's weights in shared memory
  if (maxN * 4 + prepThreads * 12 + kMaxHeadSplits * 4 + 1024 > lim.maxComputeSharedMemorySize || d * 4 + 1024 > lim.maxComputeSharedMemorySize ||
      3 * hd * 4 + 2048 > lim.maxComputeSharedMemorySize)
    throw std::invalid_argument("vulkan: the model's widths need more shared memory than this device has (" + std::to_string(lim.maxComputeSharedMemorySize) + " bytes)");
  if (lim.maxComputeWorkGroupInvocations < 256) throw std::invalid_argument("vulkan: the device runs fewer than 256 invocations per workgroup");
  // gemv.comp: R rows per subgroup, a workgroup of 256 invocations takes R * 256 / subgroup size rows.
  const uint32_t rowsPerSubgroup = c.gemvRows ? c.gemvRows : 1;
  const size_t gemvRows = rowsPerSubgroup * std::max<size_t>(1, 256 / ctx_->subgroupSize());
  // gemm.comp: one row per subgroup (at most gemvRows rows per workgroup, so it has the most workgroups).
  const size_t gemmRows = std::max<size_t>(1, 256 / ctx_->subgroupSize());
  if ((c.vocab + 7) / 8 > lim.maxComputeWorkGroupCount[0] || (2 * F + gemmRows - 1) / gemmRows > lim.maxComputeWorkGroupCount[0])
    throw std::invalid_argument("vulkan: vocabulary or FFN too large for one dispatch on this device");
  // T = the prompt chunk: the token rows of every per-token buffer.
  chunk_ = c.prefillChunk ? c.prefillChunk : kDefaultPrefillChunk;
  if (chunk_ > 64) throw std::invalid_argument("vulkan: prefill chunk " + std::to_string(chunk_) + " exceeds 64 tokens");
  const size_t T = chunk_;

  Context& x = *ctx_;
  auto deviceBuffer = [&](size_t bytes, const char* what) -> Buffer& {
    if (bytes > lim.maxStorageBufferRange)
      throw std::invalid_argument(std::string("vulkan: the ") + what + " (" + std::to_string(bytes >> 20) + " MiB) exceeds this device's storage buffer range (" +
                                  std::to_string(lim.maxStorageBufferRange >> 20) + " MiB)");
    owned_.push_back(x.buffer(bytes, Context::Mem::Device));
    return owned_.back();
  };
  owned_.reserve(2 * L + L + 24);

  // Weights: per layer [q; k; v] [o] [gate; up] [down], rows padded to whole words.
  const size_t wD = wordsOf(d), wA = wordsOf(attn), wF = wordsOf(F);
  const size_t offO = (attn + 2 * kvw) * wD, offGU = offO + d * wA, offDown = offGU + 2 * F * wD, layerWords = offDown + d * wF;
  std::vector<size_t> weightIdx(L);
  for (size_t li = 0; li < L; li++) {
    const LayerIn& l = layers[li];
    const LinearIn* parts[] = {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down};
    const size_t rows[] = {attn, kvw, kvw, d, F, F, d}, cols[] = {d, d, d, attn, d, d, F};
    for (int i = 0; i < 7; i++)
      if (parts[i]->rows != rows[i] || parts[i]->cols != cols[i] || !parts[i]->packed || cols[i] % 4)
        throw std::invalid_argument("vulkan: layer " + std::to_string(li) + " projection " + std::to_string(i) + " has the wrong shape");
    Buffer& w = deviceBuffer(layerWords * 4, "layer weights");
    weightIdx[li] = owned_.size() - 1;
    x.uploadWith(w, layerWords * 4, [&](uint8_t* chunk, size_t off, size_t len) {
      // Pack the whole layer once into host memory, then copy the chunk (layers are ~17 MB on the 2B shape).
      thread_local std::vector<uint8_t> all;
      if (off == 0) {
        all.assign(layerWords * 4, 0);
        size_t o = 0;
        for (int i = 0; i < 7; i++) {
          packRows(*parts[i], all.data() + o);
          o += parts[i]->rows * wordsOf(parts[i]->cols) * 4;
        }
      }
      std::memcpy(chunk, all.data() + off, len);
    });
  }
  weightBytes_ = L * layerWords * 4 + c.vocab * d * 2;

  // Norm weights of every layer, then the final norm.
  const size_t perLayer = 2 * d + attn + F;
  std::vector<float> norms(L * perLayer + d);
  for (size_t li = 0; li < L; li++) {
    float* n = &norms[li * perLayer];
    std::copy(layers[li].inputNorm, layers[li].inputNorm + d, n);
    std::copy(layers[li].attnSubNorm, layers[li].attnSubNorm + attn, n + d);
    std::copy(layers[li].postAttnNorm, layers[li].postAttnNorm + d, n + d + attn);
    std::copy(layers[li].ffnSubNorm, layers[li].ffnSubNorm + F, n + 2 * d + attn);
  }
  std::copy(norm, norm + d, &norms[L * perLayer]);
  Buffer& normBuf = deviceBuffer(norms.size() * 4, "norm weights");
  x.upload(normBuf, 0, norms.data(), norms.size() * 4);

  // Hadamard factors H_K of the W_o and W_down inputs, as sign bits (1: -1), row-major.
  HadamardPlan hAttn, hFfn;
  std::vector<uint32_t> had(1, 0);
  size_t ffnHadOff = 0;
  if (c.hadamard) {
    hAttn = hadamardPlan(attn);
    hFfn = hadamardPlan(F);
    had.clear();
    for (const HadamardPlan* h : {&hAttn, &hFfn}) {
      if (h->K > 128) throw std::invalid_argument("vulkan: the Hadamard transform of width " + std::to_string(h->K * h->pow2) + " needs a factor H_" + std::to_string(h->K) + " (at most 128 here)");
      const size_t K2 = static_cast<size_t>(h->K) * h->K, base = had.size();
      if (h == &hFfn) ffnHadOff = base;
      had.resize(base + (K2 + 31) / 32, 0);
      for (size_t b = 0; b < K2; b++)
        if (h->h[b] < 0) had[base + b / 32] |= 1u << (b % 32);
    }
  }
  Buffer& hadBuf = deviceBuffer(had.size() * 4, "Hadamard factors");
  x.upload(hadBuf, 0, had.data(), had.size() * 4);

  // RoPE table: cos, sin of position p and pair j, computed in float64 like the CPU backend.
  std::vector<float> rope(c.maxPos * hd);
  for (size_t p = 0; p < c.maxPos; p++)
    for (size_t j = 0; j < hd / 2; j++) {
      const double angle = static_cast<double>(p) * std::pow(c.theta, (-2.0 * static_cast<double>(j)) / static_cast<double>(hd));
      rope[(p * (hd / 2) + j) * 2] = static_cast<float>(std::cos(angle));
      rope[(p * (hd / 2) + j) * 2 + 1] = static_cast<float>(std::sin(angle));
    }
  Buffer& ropeBuf = deviceBuffer(rope.size() * 4, "RoPE table");
  x.upload(ropeBuf, 0, rope.data(), rope.size() * 4);

  // Embedding and LM head (F16 pairs).
  Buffer& embed = deviceBuffer(c.vocab * d * 2, "embedding");
  x.upload(embed, 0, embedF16, c.vocab * d * 2);
  Buffer* head = &embed;
  if (headF16) {
    head = &deviceBuffer(c.vocab * d * 2, "LM head");
    x.upload(*head, 0, headF16, c.vocab * d * 2);
    weightBytes_ = L * layerWords * 4 + c.vocab * d * 2;
  }

  // Activations, KV cache and scratch.
  // Per-token buffers hold T rows (a prompt chunk); a decode step uses row 0. Params: a 16-byte
  // header (count, pos0) and 16 bytes per row (params.glsl).
  const size_t paramsBytes = 16 + 16 * T;
  Buffer& params = deviceBuffer(paramsBytes, "params");
  Buffer& hidden = deviceBuffer(T * d * 4, "hidden state");
  Buffer& xq = deviceBuffer(T * vecsOf(maxN) * 128, "activations");  // gemv.comp's layout: 8 uvec4 per 64 columns
  Buffer& qkv = deviceBuffer(T * (attn + 2 * kvw) * 4, "q, k, v");
  Buffer& gu = deviceBuffer(T * 2 * F * 4, "gate, up");
  Buffer& work = deviceBuffer(T * maxN * 4, "scratch");
  Buffer& work2 = deviceBuffer(T * maxN * 4, "Hadamard output");
  Buffer& rowSq = deviceBuffer(T * 128 * 4, "Hadamard row sums of squares");  // one per row of H_K (K <= 128)
  // Attention runs as heads x splits workgroups over ranges of positions, merged by prep: by default
  // ~320 workgroups on a GPU (16 splits of the 2B shape's 20 heads: 2.83 vs 3.28 GPU ms/token with 6
  // after 512 tokens on the H100, the same after 64), 1 split on a CPU implementation (SwiftShader:
  // workgroups run on the cores).
  const size_t splits = c.attentionSplits ? c.attentionSplits
                        : ctx_->properties().deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? 1
                                                                                        : std::max<size_t>(1, std::min<size_t>(16, 320 / c.heads));
  if (c.heads * splits > kMaxHeadSplits)
    throw std::invalid_argument("vulkan: " + std::to_string(c.heads) + " heads x " + std::to_string(splits) + " attention splits exceed " + std::to_string(kMaxHeadSplits));
  const size_t partStride = c.heads * splits * (2 + hd);  // floats per token row
  Buffer& partials = deviceBuffer(T * partStride * 4, "attention partials");
  Buffer& logits = deviceBuffer(c.vocab * 4, "logits");
  std::vector<size_t> kIdx(L), vIdx(L);
  for (size_t li = 0; li < L; li++) {
    deviceBuffer(c.maxPos * kvw * 4, "K cache");
    kIdx[li] = owned_.size() - 1;
    deviceBuffer(c.maxPos * kvw * 4, "V cache");
    vIdx[li] = owned_.size() - 1;
  }
  paramsHost_ = x.buffer(paramsBytes, Context::Mem::Upload);
  readback_ = x.buffer(c.vocab * 4, Context::Mem::Readback);
  // Taps: written by the shaders straight into host-visible memory (a few KB per layer).
  if (c.taps) tapsBuf_ = x.buffer(L * tapStride() * 4, Context::Mem::Readback);

  // Pipelines (specialization constant 0: the size of the shared array).
  VkPipeline pEmbed = x.pipeline(spirv::embed, sizeof(spirv::embed), {});
  VkPipeline pPrep = x.pipeline(spirv::prep, sizeof(spirv::prep), {u32(maxN, "width"), prepThreads, u32(kMaxHeadSplits, "heads")});
  VkPipeline pGemv = x.pipeline(spirv::gemv, sizeof(spirv::gemv), {rowsPerSubgroup});
  VkPipeline pGemm = T > 1 ? x.pipeline(spirv::gemm, sizeof(spirv::gemm), {u32(T, "chunk")}) : VK_NULL_HANDLE;
  VkPipeline pHadp = c.hadamard ? x.pipeline(spirv::hadp, sizeof(spirv::hadp), {u32(std::max(hAttn.pow2, hFfn.pow2), "width"), u32(kMaxHeadSplits, "heads")}) : VK_NULL_HANDLE;
  VkPipeline pHadk = x.pipeline(spirv::hadk, sizeof(spirv::hadk), {});
  VkPipeline pAttn = x.pipeline(spirv::attn, sizeof(spirv::attn), {u32(hd, "head_dim")});
  VkPipeline pHead = x.pipeline(spirv::head, sizeof(spirv::head), {u32(d, "hidden size")});

  const float eps = static_cast<float>(c.eps);
  // The dispatch list of a decode step (rows = 1) or of a prompt chunk (rows = T): the per-token
  // kernels run over `rows` token rows (gl_WorkGroupID.y), the GEMVs become gemm.comp, and the
  // attention a KV write plus a causal attention over the cache.
  // Taps: binding 7 of prep / hadp / hadk; the offset of a site's floats in the taps buffer goes to
  // push word `word` (record() leaves kNoTap there but in a step's last submission).
  const auto tap = [&](Dispatch& dp, int word, size_t off) {
    dp.buffers.resize(kBindings, params.buf);
    dp.push[word] = kNoTap;
    if (off == kNoTap || !c.taps) return;
    dp.buffers[7] = tapsBuf_.buf;
    dp.tapWord = word;
    dp.tapOff = u32(off, "taps offset");
  };
  const size_t tapStride = this->tapStride();
  const auto makeList = [&](uint32_t rows) {
    const bool batched = rows > 1;
    const auto prep = [&](int kernel, Buffer& src, size_t srcStride, uint32_t n, uint32_t mode, size_t normOff, uint32_t quant, uint32_t stage = 0,
                          size_t tapOff = kNoTap) {
      Dispatch dp{pPrep, {params.buf, src.buf, normBuf.buf, hadBuf.buf, work.buf, xq.buf}, {}, 1, kernel, rows};
      const uint32_t pc[] = {n, mode, u32(normOff, "norm offset"), quant, u32(vecsOf(n), "width"), bits(eps), u32(splits, "splits"), u32(hd, "head_dim"), stage,
                             u32(srcStride, "row stride"), 0u};
      std::copy(std::begin(pc), std::end(pc), dp.push);
      tap(dp, 11, tapOff);
      return dp;
    };
    // The quantized input of a site: one prep dispatch, or with the Hadamard transform three: the
    // norm weight and H_P's butterflies per row of H_K (K workgroups), the H_K step with 1 / rms, the
    // quantizer.
    // tapOff / preOff: where the quantizer input and the vector before the transform go in the taps.
    const auto siteInput = [&](std::vector<Dispatch>& out, int kernel, Buffer& src, size_t srcStride, size_t n, uint32_t mode, size_t normOff, uint32_t quant,
                               const HadamardPlan* h, size_t hadOff, size_t tapOff, size_t preOff) {
      if (!h) {
        out.push_back(prep(kernel, src, srcStride, u32(n, "width"), mode, normOff, quant, 0, tapOff));
        return;
      }
      Dispatch hr{pHadp, {params.buf, src.buf, normBuf.buf, params.buf, work.buf, rowSq.buf}, {}, static_cast<uint32_t>(h->K), kernel, rows};
      const uint32_t rpc[] = {u32(n, "width"), mode, u32(normOff, "norm offset"), u32(h->pow2, "width"), u32(splits, "splits"), u32(hd, "head_dim"),
                              u32(srcStride, "row stride")};
      std::copy(std::begin(rpc), std::end(rpc), hr.push);
      tap(hr, 7, preOff);
      out.push_back(hr);
      Dispatch dp{pHadk, {params.buf, work.buf, hadBuf.buf, work2.buf, params.buf, rowSq.buf}, {}, u32((n + 63) / 64, "width"), kernel + 1, rows};
      const uint32_t pc[] = {u32(n, "width"), static_cast<uint32_t>(h->K), u32(h->pow2, "width"), u32(hadOff, "Hadamard offset"),
                             bits(static_cast<float>(1 / std::sqrt(static_cast<double>(n)))), bits(eps)};
      std::copy(std::begin(pc), std::end(pc), dp.push);
      tap(dp, 6, preOff);
      out.push_back(dp);
      out.push_back(prep(kernel + 2, work2, n, u32(n, "width"), 0, 0, quant, 1, tapOff));
    };
    const auto gemv = [&](int kernel, Buffer& w, size_t wOff, size_t outRows, size_t cols, Buffer& out, size_t outStride, bool add, size_t seg1, size_t seg2,
                          double a0, double a1, double a2) {
      const size_t perGroup = batched ? gemmRows : gemvRows;
      Dispatch dp{batched ? pGemm : pGemv, {params.buf, w.buf, xq.buf, out.buf}, {}, u32((outRows + perGroup - 1) / perGroup, "rows"), kernel};
      const uint32_t pc[] = {u32(outRows, "rows"), u32(vecsOf(cols), "cols"), u32(wOff / 4, "weight offset"), u32(seg1, "rows"), u32(seg2, "rows"),
                             bits(static_cast<float>(a0)), bits(static_cast<float>(a1)), bits(static_cast<float>(a2)), add ? 1u : 0u,
                             batched ? u32(outStride, "row stride") : 0u, u32(perGroup, "rows")};
      std::copy(std::begin(pc), std::end(pc), dp.push);
      return dp;
    };
    const auto attention = [&](size_t li, uint32_t phase) {
      Dispatch dp{pAttn, {params.buf, qkv.buf, owned_[kIdx[li]].buf, owned_[vIdx[li]].buf, params.buf, partials.buf, ropeBuf.buf}, {},
                  u32(phase == 1 ? c.kvHeads : c.heads * splits, "heads"), kAttention, rows};
      const uint32_t pc[] = {u32(c.heads, "heads"), u32(c.kvHeads, "kv heads"), u32(c.heads / c.kvHeads, "group"), u32(splits, "splits"),
                             bits(static_cast<float>(1 / std::sqrt(static_cast<double>(hd)))), phase};
      std::copy(std::begin(pc), std::end(pc), dp.push);
      return dp;
    };

    std::vector<Dispatch> list;
    {
      Dispatch dp{pEmbed, {params.buf, embed.buf, hidden.buf}, {u32(d, "hidden size")}, u32((d / 2 + 255) / 256, "hidden size"), kEmbed, rows};
      list.push_back(dp);
    }
    const uint32_t q0 = static_cast<uint32_t>(c.sites[0]), q1 = static_cast<uint32_t>(c.sites[1]), q2 = static_cast<uint32_t>(c.sites[2]),
                   q3 = static_cast<uint32_t>(c.sites[3]);
    const size_t qkvW = attn + 2 * kvw;
    for (size_t li = 0; li < L; li++) {
      const LayerIn& l = layers[li];
      Buffer& w = owned_[weightIdx[li]];
      const size_t nb = li * perLayer;
      // This layer's taps: qkv, o, gateup, down, oPre, downPre (tapStride()).
      const size_t tb = li * tapStride, tO = tb + d, tGU = tO + attn, tDown = tGU + d, tOPre = tDown + F, tDownPre = tOPre + attn;
      list.push_back(prep(kPrepQkv, hidden, d, u32(d, "d"), 0, nb, q0, 0, tb));
      list.push_back(gemv(kGemvQkv, w, 0, qkvW, d, qkv, qkvW, false, attn, attn + kvw, l.q.alpha, l.k.alpha, l.v.alpha));
      if (batched) list.push_back(attention(li, 1));
      list.push_back(attention(li, batched ? 2 : 0));
      siteInput(list, kPrepO, partials, partStride, attn, 3, nb + d, q1, c.hadamard ? &hAttn : nullptr, 0, tO, tOPre);
      list.push_back(gemv(kGemvO, w, offO, d, attn, hidden, d, true, d, d, l.o.alpha, l.o.alpha, l.o.alpha));
      list.push_back(prep(kPrepGateUp, hidden, d, u32(d, "d"), 0, nb + d + attn, q2, 0, tGU));
      list.push_back(gemv(kGemvGateUp, w, offGU, 2 * F, d, gu, 2 * F, false, F, 2 * F, l.gate.alpha, l.up.alpha, l.up.alpha));
      siteInput(list, kPrepDown, gu, 2 * F, F, c.relu2 ? 1 : 2, nb + 2 * d + attn, q3, c.hadamard ? &hFfn : nullptr, ffnHadOff, tDown, tDownPre);
      list.push_back(gemv(kGemvDown, w, offDown, d, F, hidden, d, true, d, d, l.down.alpha, l.down.alpha, l.down.alpha));
    }
    // The final norm of the step's last row only (work[0..d)), then the LM head.
    Dispatch fn = prep(kFinalNorm, hidden, d, u32(d, "d"), 0, L * perLayer, 0);
    fn.groupsY = 1;
    fn.push[10] = 1;  // lastRow
    list.push_back(fn);
    {
      Dispatch dp{pHead, {params.buf, head->buf, work.buf, logits.buf}, {u32(c.vocab, "vocab"), u32(d / 2, "d")}, u32((c.vocab + 7) / 8, "vocab"), kLmHead};
      list.push_back(dp);
    }
    return list;
  };
  std::vector<Dispatch> list = makeList(1), chunkList;
  if (T > 1) chunkList = makeList(u32(T, "chunk"));

  // Descriptor sets, one per dispatch (unused bindings point at the params buffer).
  const size_t sets = list.size() + chunkList.size();
  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, u32(sets * kBindings, "descriptors")};
  VkDescriptorPoolCreateInfo dpci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  dpci.maxSets = u32(sets, "dispatches");
  dpci.poolSizeCount = 1;
  dpci.pPoolSizes = &ps;
  const Functions& f = x.fn();
  check(f.vkCreateDescriptorPool(x.device(), &dpci, nullptr, &descPool_), "vkCreateDescriptorPool");

  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.queueFamilyIndex = x.queueFamily();
  check(f.vkCreateCommandPool(x.device(), &pci, nullptr, &cmdPool_), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cai.commandPool = cmdPool_;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 4;
  VkCommandBuffer cbs[4];
  check(f.vkAllocateCommandBuffers(x.device(), &cai, cbs), "vkAllocateCommandBuffers");
  cmd_ = cbs[0];
  cmdPrompt_ = cbs[1];
  cmdChunk_ = cbs[2];
  cmdChunkPrompt_ = cbs[3];
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  check(f.vkCreateFence(x.device(), &fci, nullptr, &fence_), "vkCreateFence");
  if (x.timestamps()) {
    queryCount_ = c.profile ? u32(list.size() + 1, "queries") : 2;
    VkQueryPoolCreateInfo qci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qci.queryCount = queryCount_;
    check(f.vkCreateQueryPool(x.device(), &qci, nullptr, &queries_), "vkCreateQueryPool");
  }
  kernelNames_.assign(kKernelNames, kKernelNames + kKernels);
  for (const std::string& n : kernelNames_) times_.kernels.emplace_back(n, 0.0);
  // cmd_: the whole step, logits copied out (timestamps after every dispatch with profile on);
  // cmdPrompt_: a prompt token whose logits nobody reads: no final norm, LM head or copy (two
  // timestamps: the step's total). cmdChunk_ / cmdChunkPrompt_: the same for a prompt chunk.
  queryKernel_.assign(queryCount_, -1);
  const std::vector<VkDescriptorSet> stepSets = descriptorSets(list, params.buf);
  record(list, stepSets, list.size(), 1, cmd_, true, c.profile, params.buf, logits.buf);
  record(list, stepSets, list.size() - 2, 1, cmdPrompt_, false, false, params.buf, logits.buf);
  stepDispatches_ = list.size();
  if (T > 1) {
    const std::vector<VkDescriptorSet> chunkSets = descriptorSets(chunkList, params.buf);
    record(chunkList, chunkSets, chunkList.size(), u32(T, "chunk"), cmdChunk_, true, false, params.buf, logits.buf);
    record(chunkList, chunkSets, chunkList.size() - 2, u32(T, "chunk"), cmdChunkPrompt_, false, false, params.buf, logits.buf);
    chunkDispatches_ = chunkList.size();
  }
}

std::vector<VkDescriptorSet> Model::descriptorSets(std::vector<Dispatch>& list, VkBuffer params) {
  Context& x = *ctx_;
  const Functions& f = x.fn();
  for (Dispatch& dp : list)
    while (dp.buffers.size() < kBindings) dp.buffers.push_back(params);
  std::vector<VkDescriptorSetLayout> layouts(list.size(), x.setLayout());
  std::vector<VkDescriptorSet> sets(list.size());
  VkDescriptorSetAllocateInfo dai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  dai.descriptorPool = descPool_;
  dai.descriptorSetCount = u32(list.size(), "dispatches");
  dai.pSetLayouts = layouts.data();
  check(f.vkAllocateDescriptorSets(x.device(), &dai, sets.data()), "vkAllocateDescriptorSets");
  for (size_t i = 0; i < list.size(); i++) {
    VkDescriptorBufferInfo info[kBindings];
    VkWriteDescriptorSet w[kBindings];
    for (uint32_t b = 0; b < kBindings; b++) {
      info[b] = {list[i].buffers[b], 0, VK_WHOLE_SIZE};
      w[b] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      w[b].dstSet = sets[i];
      w[b].dstBinding = b;
      w[b].descriptorCount = 1;
      w[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      w[b].pBufferInfo = &info[b];
    }
    f.vkUpdateDescriptorSets(x.device(), kBindings, w, 0, nullptr);
  }
  return sets;
}

void Model::record(const std::vector<Dispatch>& list, const std::vector<VkDescriptorSet>& sets, size_t count, uint32_t rows, VkCommandBuffer cb, bool full,
                   bool perDispatch, VkBuffer params, VkBuffer logits) {
  Context& x = *ctx_;
  const Functions& f = x.fn();
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  check(f.vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
  const auto barrier = [&](VkPipelineStageFlags from, VkAccessFlags fromAccess, VkPipelineStageFlags to, VkAccessFlags toAccess) {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = fromAccess;
    mb.dstAccessMask = toAccess;
    f.vkCmdPipelineBarrier(cb, from, to, 0, 1, &mb, 0, nullptr, 0, nullptr);
  };
  if (queries_) f.vkCmdResetQueryPool(cb, queries_, 0, queryCount_);
  // The step's token count, position and token ids, from the host-visible buffer the host wrote before submitting.
  VkBufferCopy pc{0, 0, 16 + 16 * static_cast<VkDeviceSize>(rows)};
  f.vkCmdCopyBuffer(cb, paramsHost_.buf, params, 1, &pc);
  barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  if (queries_) f.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, 0);
  VkPipeline bound = VK_NULL_HANDLE;
  for (size_t i = 0; i < count; i++) {
    const Dispatch& dp = list[i];
    if (dp.pipeline != bound) f.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, bound = dp.pipeline);
    f.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, x.pipelineLayout(), 0, 1, &sets[i], 0, nullptr);
    if (dp.tapWord >= 0 && full) {
      // Taps only in a step's last submission (the LM head's), for its last token row.
      uint32_t push[kPushBytes / 4];
      std::copy(std::begin(dp.push), std::end(dp.push), push);
      push[dp.tapWord] = dp.tapOff;
      f.vkCmdPushConstants(cb, x.pipelineLayout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, push);
    } else {
      f.vkCmdPushConstants(cb, x.pipelineLayout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, dp.push);
    }
    f.vkCmdDispatch(cb, dp.groups, dp.groupsY, 1);
    // Every dispatch depends on the one before; only the LM head's output (logits) goes to a copy.
    if (i + 1 < count || !full)
      barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    else
      barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    if (queries_ && perDispatch) {
      f.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, static_cast<uint32_t>(i + 1));
      queryKernel_[i + 1] = dp.kernel;
    }
  }
  if (full) {
    VkBufferCopy lc{0, 0, c_.vocab * 4};
    f.vkCmdCopyBuffer(cb, logits, readback_.buf, 1, &lc);
    barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    if (c_.taps) barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  }
  if (queries_ && !perDispatch) f.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, 1);
  check(f.vkEndCommandBuffer(cb), "vkEndCommandBuffer");
}

Model::~Model() {
  Context& x = *ctx_;
  const Functions& f = x.fn();
  f.vkDeviceWaitIdle(x.device());
  if (queries_) f.vkDestroyQueryPool(x.device(), queries_, nullptr);
  if (fence_) f.vkDestroyFence(x.device(), fence_, nullptr);
  if (cmdPool_) f.vkDestroyCommandPool(x.device(), cmdPool_, nullptr);
  if (descPool_) f.vkDestroyDescriptorPool(x.device(), descPool_, nullptr);
  for (Buffer& b : owned_) x.destroy(b);
  x.destroy(paramsHost_);
  x.destroy(readback_);
  x.destroy(tapsBuf_);
}

size_t Model::tapStride() const {
  const size_t attn = c_.heads * c_.headDim;
  return 2 * c_.d + attn + c_.ffn + (c_.hadamard ? attn + c_.ffn : 0);
}

void Model::submit(VkCommandBuffer cb, const int32_t* ids, size_t n, size_t dispatches) {
  Context& x = *ctx_;
  const Functions& f = x.fn();
  uint32_t* p = static_cast<uint32_t*>(paramsHost_.mapped);  // params.glsl: count, pos0, then 4 words per row
  p[0] = static_cast<uint32_t>(n);
  p[1] = static_cast<uint32_t>(pos_);
  for (size_t i = 0; i < n; i++) p[4 + 4 * i] = static_cast<uint32_t>(ids[i]);  // coherent memory: visible to the copy at submission
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  const auto t0 = std::chrono::steady_clock::now();
  check(f.vkQueueSubmit(x.queue(), 1, &si, fence_), "vkQueueSubmit");
  check(f.vkWaitForFences(x.device(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  times_.submitWait += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  f.vkResetFences(x.device(), 1, &fence_);
  if (queries_) {
    const bool perDispatch = cb == cmd_ && c_.profile;
    const uint32_t q = perDispatch ? queryCount_ : 2;  // the other buffers write queries 0 and 1 only
    std::vector<uint64_t> ts(q);
    check(f.vkGetQueryPoolResults(x.device(), queries_, 0, q, ts.size() * 8, ts.data(), 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
    const double ms = x.timestampPeriodNs() * 1e-6;
    times_.total += static_cast<double>(ts[q - 1] - ts[0]) * ms;
    if (perDispatch)
      for (uint32_t i = 1; i < q; i++)
        if (queryKernel_[i] >= 0) times_.kernels[queryKernel_[i]].second += static_cast<double>(ts[i] - ts[i - 1]) * ms;
  }
  times_.steps += n;
  times_.submissions++;
  times_.dispatches += dispatches;
  pos_ += n;
}

void Model::forward(const std::vector<int32_t>& ids, float* logits) {
  if (ids.empty()) throw std::invalid_argument("forward() needs at least one token");
  if (pos_ + ids.size() > c_.maxPos)
    throw std::invalid_argument("context length " + std::to_string(c_.maxPos) + " exceeded: " + std::to_string(pos_) + " cached + " + std::to_string(ids.size()) +
                                " new tokens");
  for (int32_t id : ids)
    if (id < 0 || static_cast<size_t>(id) >= c_.vocab)
      throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary (" + std::to_string(c_.vocab) + ")");
  // One token: a decode step. More: chunks of up to chunk_ tokens (token by token when chunk_ is 1);
  // only the last token's LM head runs.
  for (size_t i = 0; i < ids.size();) {
    const size_t n = ids.size() == 1 || chunk_ == 1 ? 1 : std::min<size_t>(chunk_, ids.size() - i);
    const bool last = i + n == ids.size();
    if (ids.size() == 1 || chunk_ == 1)
      submit(last ? cmd_ : cmdPrompt_, &ids[i], 1, last ? stepDispatches_ : stepDispatches_ - 2);
    else
      submit(last ? cmdChunk_ : cmdChunkPrompt_, &ids[i], n, last ? chunkDispatches_ : chunkDispatches_ - 2);
    i += n;
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (!readback_.coherent) {
    VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
    r.memory = readback_.mem;
    r.size = VK_WHOLE_SIZE;
    ctx_->fn().vkInvalidateMappedMemoryRanges(ctx_->device(), 1, &r);
  }
  std::memcpy(logits, readback_.mapped, c_.vocab * 4);
  if (c_.taps) {
    if (!tapsBuf_.coherent) {
      VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
      r.memory = tapsBuf_.mem;
      r.size = VK_WHOLE_SIZE;
      ctx_->fn().vkInvalidateMappedMemoryRanges(ctx_->device(), 1, &r);
    }
    const float* t = static_cast<const float*>(tapsBuf_.mapped);
    taps_.assign(t, t + c_.layers * tapStride());
  }
  times_.readback += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace bitlens::vk
#endif
