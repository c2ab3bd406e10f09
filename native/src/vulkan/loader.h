// The Vulkan loader, opened at run time (no link-time dependency on libvulkan): dlopen /
// LoadLibrary of the system loader, then vkGetInstanceProcAddr for every entry point we call.
// A machine without the loader or a driver gets a clear error from open(), never a crash.
// Everything here compiles only where <vulkan/vulkan.h> exists (BITLENS_HAVE_VULKAN).
#pragma once
#if __has_include(<vulkan/vulkan.h>)
#define BITLENS_HAVE_VULKAN 1
#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include <string>

namespace bitlens::vk {

// Global (before an instance), instance-level and device-level entry points, as X-macros.
#define BITLENS_VK_GLOBAL(X) X(vkCreateInstance) X(vkEnumerateInstanceVersion)
#define BITLENS_VK_INSTANCE(X)                                                                                                \
  X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) X(vkGetPhysicalDeviceProperties2)       \
  X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties) X(vkCreateDevice) X(vkGetDeviceProcAddr) \
  X(vkGetPhysicalDeviceFeatures)
#define BITLENS_VK_DEVICE(X)                                                                                                     \
  X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)                    \
  X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory) X(vkInvalidateMappedMemoryRanges)     \
  X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)                 \
  X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline)                           \
  X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets)                      \
  X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkBeginCommandBuffer) X(vkEndCommandBuffer)       \
  X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier)                 \
  X(vkCmdCopyBuffer) X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) X(vkCmdFillBuffer) X(vkCreateFence) X(vkDestroyFence)         \
  X(vkResetFences) X(vkWaitForFences) X(vkQueueSubmit) X(vkDeviceWaitIdle) X(vkCreateQueryPool) X(vkDestroyQueryPool)             \
  X(vkGetQueryPoolResults)

struct Functions {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define BITLENS_VK_DECLARE(name) PFN_##name name = nullptr;
  BITLENS_VK_GLOBAL(BITLENS_VK_DECLARE)
  BITLENS_VK_INSTANCE(BITLENS_VK_DECLARE)
  BITLENS_VK_DEVICE(BITLENS_VK_DECLARE)
#undef BITLENS_VK_DECLARE
};

/**
 * Opens the system Vulkan loader once per process (BITLENS_VULKAN_LIBRARY overrides its name:
 * tests, unusual installs) and fills the global entry points; throws std::runtime_error naming the
 * library when it cannot be opened.
 */
Functions loadGlobal();
/** Instance-level entry points of `f` (after vkCreateInstance). */
void loadInstance(Functions& f, VkInstance instance);
/** Device-level entry points of `f` (after vkCreateDevice). */
void loadDevice(Functions& f, VkDevice device);

/** "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc. for error messages. */
std::string resultName(VkResult r);

}  // namespace bitlens::vk
#endif
