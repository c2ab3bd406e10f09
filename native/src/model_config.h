// The shape of a BitNet model as every backend (CPU model.h, Vulkan vulkan/vulkan_model.h) reads it.
#pragma once
#include <cstddef>

namespace bitlens {

struct ModelConfig {
  size_t vocab = 0, d = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0, ffn = 0, maxPos = 0;
  bool relu2 = true;
  double eps = 1e-5, theta = 10000;
};

}  // namespace bitlens
