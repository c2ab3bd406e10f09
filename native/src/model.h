// The native CPU decode backend: the forward pass of docs/model-format.md (as
// engine/common/reference.ts computes it) on the kernels of kernels.h. Hidden states, norms,
// quantizer inputs and the Hadamard transform are float64 like the reference; the ternary
// products are exact integer sums; attention and the LM head run in float32 (the only places where
// results differ from the reference, by rounding).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels.h"
#include "lm_head.h"
#include "model_config.h"
#include "pool.h"

namespace bitlens {

enum class SiteQuant { None, Int8, Int4, Int8Top50 };
enum Site { kQkv = 0, kO = 1, kGateUp = 2, kDown = 3 };

struct RunConfig {
  SiteQuant sites[4] = {SiteQuant::Int8, SiteQuant::Int8, SiteQuant::Int8, SiteQuant::Int8};
  bool hadamard = false;
  int kvBits = 16;
  int threads = 1;
  Isa isa = Isa::Portable;
  bool taps = false;
};

struct Linear {
  TernaryMatrix w;
  double alpha = 0;
};

struct Layer {
  std::vector<float> inputNorm, attnSubNorm, postAttnNorm, ffnSubNorm;
  Linear q, k, v, o, gate, up, down;
};

/** The quantizer inputs of one layer for the last token (LayerTapsF64). */
struct LayerTaps {
  std::vector<double> qkv, o, gateup, down, oPre, downPre;
};

/** Milliseconds spent per phase since construction (benchmarks: where decode time goes). */
struct Profile {
  double quant = 0, matmul = 0, attention = 0, lmHead = 0, other = 0;
};

class Model {
 public:
  Model(ModelConfig c, RunConfig run, std::vector<Layer> layers, std::vector<float> norm, const uint16_t* embedF16, const float* embedF32,
        const uint16_t* headF16, const float* headF32);
  /** Appends the tokens to the KV cache and writes the logits of the last one (vocab floats). */
  void forward(const std::vector<int32_t>& ids, float* logits);
  void reset() { pos_ = 0; }
  size_t position() const { return pos_; }
  const std::vector<LayerTaps>& taps() const { return taps_; }
  const ModelConfig& config() const { return c_; }
  const RunConfig& run() const { return run_; }
  /** Bytes of ternary weights the model copied (padded rows); 0 when it reads the caller's buffers. */
  size_t weightBytes() const;
  const Profile& profile() const { return prof_; }
  /** Builds the int8 copy of the LM head (lm_head.h): from then on a requestHead() screens the head. */
  void enableScreenedHead(LmHeadMode mode);
  /** The int8 LM head, null unless enabled. */
  const LmHeadInt8* screenedHead() const { return head8_.get(); }
  /** The next forward() returns only what `req` needs (candidates exact, the rest -inf); nullopt: full logits. */
  void requestHead(std::optional<HeadRequest> req) { headReq_ = std::move(req); }

 private:
  // forward()'s activations, kept between calls: a decode step allocates nothing.
  struct Act {
    std::vector<double> hs, x, q, k, v, a, o, g, u, mlp, dn, act, tmp;
    std::vector<double> rope;  // per token: cos, sin of every dimension pair
    std::vector<float> parts;  // attention partials of position chunks
    std::vector<double> hn;    // final norm of the last token
    std::vector<float> hf;     // the same in float32, the LM head's input
    std::vector<double> absSum; // per token: sum of |x| of a Hadamard output, for its INT4 quantizer
  };
  struct Out {
    const Linear* lin;
    std::vector<double>* y;
  };
  // absSum: per token, the sum of |x| in index order (an INT4 site's absmean, already computed).
  void linear(std::initializer_list<Out> outs, SiteQuant site, const std::vector<double>& x, size_t T, size_t cols,
              const std::vector<uint32_t>* active = nullptr, const double* absSum = nullptr);
  void storeKv(std::vector<float>& cache, size_t p, const double* x);
  void ensureKv(size_t positions);

  ModelConfig c_;
  RunConfig run_;
  std::vector<Layer> layers_;
  std::vector<float> norm_;
  const uint16_t* embedF16_;
  const float* embedF32_;
  const uint16_t* headF16_;  // the LM head: its own table, or the embedding when tied
  const float* headF32_;
  HadamardPlan hadAttn_, hadFfn_;
  std::unique_ptr<ThreadPool> pool_;
  ParallelFor parallel_;  // pool_ for the kernels that take one
  std::vector<std::vector<float>> kCache_, vCache_;
  size_t kvCap_ = 0;
  size_t pos_ = 0;
  std::vector<LayerTaps> taps_;
  Act act_;
  std::vector<uint8_t> sparseUp_;  // per layer: W_up by active rows (else whole, with W_gate)
  // scratch for linear()
  std::vector<int8_t> xq_, qtmp_;
  std::vector<int32_t> xsum_;
  std::vector<std::vector<int32_t>> accs_;
  std::vector<uint32_t> active_;
  std::vector<double> xscale_;
  Profile prof_;
  std::unique_ptr<LmHeadInt8> head8_;
  std::optional<HeadRequest> headReq_;
};

}  // namespace bitlens
