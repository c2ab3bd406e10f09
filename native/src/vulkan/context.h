// A Vulkan compute context: instance, the best physical device (discrete > integrated > virtual >
// CPU), one compute queue, buffers (device-local, or host-visible for staging and read-back),
// compute pipelines from SPIR-V sharing one layout (8 storage buffers + 64 bytes of push constants),
// and one-shot command submission for uploads. Errors throw std::runtime_error with the Vulkan
// result's name.
#pragma once
#include "loader.h"

#if defined(BITLENS_HAVE_VULKAN)
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bitlens::vk {

constexpr uint32_t kBindings = 8;
constexpr uint32_t kPushBytes = 64;

void check(VkResult r, const char* what);

struct Buffer {
  VkBuffer buf = VK_NULL_HANDLE;
  VkDeviceMemory mem = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void* mapped = nullptr;  // host-visible buffers stay mapped
  bool coherent = true;
};

class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Functions& fn() const { return f_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queueFamily() const { return family_; }
  const VkPhysicalDeviceProperties& properties() const { return props_; }
  /** "discrete", "integrated", "virtual", "cpu" or "other". */
  std::string deviceType() const;
  /** Whether the queue writes timestamps (and how many ns a tick is). */
  bool timestamps() const { return timestampBits_ > 0; }
  double timestampPeriodNs() const { return props_.limits.timestampPeriod; }
  /** The device's subgroup size (compute shaders run subgroup arithmetic). */
  uint32_t subgroupSize() const { return subgroupSize_; }
  VkDescriptorSetLayout setLayout() const { return setLayout_; }
  VkPipelineLayout pipelineLayout() const { return pipelineLayout_; }

  /** Device: device-local. Upload: host-visible, coherent, mapped. Readback: host-visible (cached preferred), mapped. */
  enum class Mem { Device, Upload, Readback };
  Buffer buffer(VkDeviceSize size, Mem kind);
  void destroy(Buffer& b);
  /** Copies `n` bytes to `dst` at `offset` (through a staging buffer when dst is not mapped). */
  void upload(Buffer& dst, VkDeviceSize offset, const void* data, size_t n);
  /** Fills `dst` with bytes from `fill(chunk, offset, length)` in staging-sized chunks. */
  void uploadWith(Buffer& dst, VkDeviceSize size, const std::function<void(uint8_t*, size_t, size_t)>& fill);
  /** A compute pipeline of the shared layout; `spec` are the values of constant_id 0, 1, ... */
  VkPipeline pipeline(const uint32_t* code, size_t bytes, const std::vector<uint32_t>& spec);
  /** Records with `rec` into a one-shot command buffer, submits it and waits. */
  void oneShot(const std::function<void(VkCommandBuffer)>& rec);

 private:
  void release();
  uint32_t memoryType(uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid = 0) const;

  Functions f_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice phys_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props_{};
  VkPhysicalDeviceMemoryProperties mem_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t family_ = 0;
  uint32_t timestampBits_ = 0;
  uint32_t subgroupSize_ = 0;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
  VkPipelineLayout pipelineLayout_ = VK_NULL_HANDLE;
  std::vector<VkPipeline> pipelines_;
  std::vector<std::pair<VkBuffer, VkDeviceMemory>> live_;  // buffers not destroyed yet: freed in release() when an owner failed half-way
  Buffer staging_;
};

}  // namespace bitlens::vk
#endif
