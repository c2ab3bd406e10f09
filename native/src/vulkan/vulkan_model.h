// The Vulkan decode backend: the forward pass of docs/model-format.md on compute shaders
// (native/shaders). Weights are uploaded once; the KV cache lives on the GPU; a decode step is one
// pre-recorded command buffer (embedding; per layer 4 site inputs (norm and quantizer in one
// workgroup; with the Hadamard transform three dispatches: norm weight and H_P per row of H_K, the
// H_K step with 1 / rms, the quantizer), 4 ternary GEMVs and one attention dispatch; the final norm
// and the F16 LM head) submitted once with one fence wait; the position and the token id come from
// a small buffer the command buffer copies in first. With taps on (the inspector), the last token's
// site inputs are also written by their prep dispatches to a host-visible buffer, read after the fence. A prompt runs in chunks of up to
// Config::prefillChunk tokens, one command buffer each (batched prefill): the same dispatches over
// the chunk's token rows, a ternary GEMM (gemm.comp) for the GEMVs, the attention as a KV write then
// a causal attention, the LM head for the prompt's last token only. Needs subgroup arithmetic (Vulkan 1.1).
// Float32 throughout (the CPU backend quantizes from float64), integer ternary sums (exact).
#pragma once
#include "../model_config.h"
#include "context.h"

#if defined(BITLENS_HAVE_VULKAN)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bitlens::vk {

/** Activation quantizer of a site (prep.comp's quant): int8 absmax, int4 absmean, int8 absmax + a4.8's top-50% mask. */
enum class Quant : uint32_t { Int8 = 1, Int4 = 2, Int8Top50 = 3 };

/** The model's shape (as the CPU backend's) and the run options of the Vulkan backend. */
struct Config : ModelConfig {
  Quant sites[4] = {Quant::Int8, Quant::Int8, Quant::Int8, Quant::Int8};  // qkv, o, gateup, down
  bool hadamard = false;
  /** A timestamp after every dispatch (per-kernel GPU time); otherwise only around the whole step. */
  bool profile = false;
  /** Workgroups per attention head, over ranges of positions (0: chosen for the device). */
  size_t attentionSplits = 0;
  /** Rows per subgroup in the ternary GEMV (1, 2 or 4; 0: the default). */
  uint32_t gemvRows = 0;
  /** Prompt tokens per batched chunk (2..64; 0: kDefaultPrefillChunk; 1: token by token, as decode steps). */
  uint32_t prefillChunk = 0;
  /** Keep the last token's quantizer inputs of every forward() (taps()). */
  bool taps = false;
};

/**
 * Default prompt chunk: 32 tokens go through every layer together (gemm.comp keeps 32 integer
 * accumulators per lane and loads each weight word once per chunk; the chunk's 32 activation rows,
 * 80-160 KB on the 2B shape, stay in cache), so a prompt costs ~300 dispatches per 32 tokens
 * instead of 273 per token. 64 would halve the dispatches again at twice the registers per lane.
 */
constexpr uint32_t kDefaultPrefillChunk = 32;

struct LinearIn {
  const uint8_t* packed = nullptr;  // docs/model-format.md layout, rows x cols / 4 bytes
  size_t rows = 0, cols = 0;
  double alpha = 0;
};

struct LayerIn {
  const float *inputNorm = nullptr, *attnSubNorm = nullptr, *postAttnNorm = nullptr, *ffnSubNorm = nullptr;
  LinearIn q, k, v, o, gate, up, down;
};

/** GPU milliseconds per kernel kind (profile on: decode steps only) and in total, summed over steps;
 * host milliseconds from submission to the fence (GPU time + submission and wake-up latency) and for
 * copying logits out. steps: tokens run; submissions: command buffers submitted; dispatches: compute
 * dispatches in them. */
struct GpuTimes {
  double total = 0;
  size_t steps = 0, submissions = 0, dispatches = 0;
  double submitWait = 0, readback = 0;
  std::vector<std::pair<std::string, double>> kernels;
};

class Model {
 public:
  /** Tables are F16 bits; head == nullptr: tied to the embedding. Throws std::runtime_error / std::invalid_argument. */
  Model(const Config& c, const std::vector<LayerIn>& layers, const float* norm, const uint16_t* embedF16, const uint16_t* headF16);
  ~Model();
  /** Appends the tokens to the KV cache and writes the last one's logits (vocab floats): one token is a
   * decode step; more run in chunks of prefillChunk tokens, one submission each (the LM head only
   * for the last token). */
  void forward(const std::vector<int32_t>& ids, float* logits);
  void reset() { pos_ = 0; }
  size_t position() const { return pos_; }
  size_t vocab() const { return c_.vocab; }
  const Config& config() const { return c_; }
  /**
   * With taps on, the quantizer inputs of the last token of the last forward(), per layer (tapStride()
   * floats each): qkv [d], o [heads * headDim], gateup [d], down [ffn] (what the quantizer sees: after
   * the norm and any Hadamard transform, before a4.8's mask), then with the Hadamard transform the
   * SubLN outputs before it: oPre [heads * headDim], downPre [ffn]. Empty with taps off.
   */
  const std::vector<float>& taps() const { return taps_; }
  size_t tapStride() const;
  const GpuTimes& gpuTimes() const { return times_; }
  /** Bytes a decode step reads of weights as stored on the GPU (ternary words + F16 LM head). */
  size_t weightBytesPerToken() const { return weightBytes_; }
  std::string deviceName() const { return ctx_->properties().deviceName; }
  std::string deviceType() const { return ctx_->deviceType(); }

 private:
  struct Dispatch {
    VkPipeline pipeline;
    std::vector<VkBuffer> buffers;
    uint32_t push[kPushBytes / 4] = {};
    uint32_t groups;
    int kernel;  // index into kernelNames_
    uint32_t groupsY = 1;  // token rows (a chunk's size for the per-row kernels of a batched list)
    int tapWord = -1;      // push word of the taps offset (prep dispatches with taps on)
    uint32_t tapOff = 0;   // what it gets in the command buffers of a step's last submission
  };
  /** One descriptor set per dispatch of `list`. */
  std::vector<VkDescriptorSet> descriptorSets(std::vector<Dispatch>& list, VkBuffer params);
  /** Records the first `count` dispatches of `list` (token rows: `rows`) into cb; full: the LM head's logits copied out. */
  void record(const std::vector<Dispatch>& list, const std::vector<VkDescriptorSet>& sets, size_t count, uint32_t rows, VkCommandBuffer cb, bool full,
              bool perDispatch, VkBuffer params, VkBuffer logits);
  /** Runs tokens [0, n) of `ids` at positions pos_.. in one submission of cb. */
  void submit(VkCommandBuffer cb, const int32_t* ids, size_t n, size_t dispatches);

  std::unique_ptr<Context> ctx_;
  Config c_;
  size_t weightBytes_ = 0;
  std::vector<Buffer> owned_;
  Buffer paramsHost_, readback_, tapsBuf_;
  std::vector<float> taps_;
  VkDescriptorPool descPool_ = VK_NULL_HANDLE;
  VkCommandPool cmdPool_ = VK_NULL_HANDLE;
  // A decode step with / without the LM head and logits; a batched prompt chunk with / without them.
  VkCommandBuffer cmd_ = VK_NULL_HANDLE, cmdPrompt_ = VK_NULL_HANDLE, cmdChunk_ = VK_NULL_HANDLE, cmdChunkPrompt_ = VK_NULL_HANDLE;
  size_t stepDispatches_ = 0, chunkDispatches_ = 0;  // in cmd_ and cmdChunk_ (the prompt buffers: 2 fewer)
  uint32_t chunk_ = 1;
  VkFence fence_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  uint32_t queryCount_ = 0;
  std::vector<int> queryKernel_;  // kernel of the dispatch that ends at query i (cmd_ with profile on)
  std::vector<std::string> kernelNames_;
  GpuTimes times_;
  size_t pos_ = 0;
};

}  // namespace bitlens::vk
#endif
