// The JavaScript class VulkanModel (engine/node/vulkan/), registered by addon.cc.
#pragma once
#include <napi.h>

namespace bitlens {
/** The constructor; without Vulkan headers at build time it throws a clear error when called. */
Napi::Function vulkanModelClass(Napi::Env env);
}  // namespace bitlens
