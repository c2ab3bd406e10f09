// Vulkan structs are initialised as {sType} with the rest zero: the idiom, not a missing field.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include "loader.h"

#if defined(BITLENS_HAVE_VULKAN)
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace bitlens::vk {
namespace {

#if defined(_WIN32)
constexpr const char* kDefaultLibrary = "vulkan-1.dll";
#elif defined(__APPLE__)
constexpr const char* kDefaultLibrary = "libvulkan.1.dylib";
#else
constexpr const char* kDefaultLibrary = "libvulkan.so.1";
#endif

// The library stays open for the life of the process: drivers keep threads and state behind it.
// Looked up by name each time, so a changed BITLENS_VULKAN_LIBRARY takes effect (tests).
PFN_vkGetInstanceProcAddr openLibrary() {
  static std::mutex mu;
  static std::map<std::string, PFN_vkGetInstanceProcAddr> opened;
  std::lock_guard<std::mutex> lock(mu);
  const char* env = std::getenv("BITLENS_VULKAN_LIBRARY");
  const std::string name = env && *env ? env : kDefaultLibrary;
  if (auto it = opened.find(name); it != opened.end()) return it->second;
#if defined(_WIN32)
  HMODULE lib = LoadLibraryA(name.c_str());
  if (!lib) throw std::runtime_error("no Vulkan loader (" + name + " could not be loaded; install a GPU driver with Vulkan support)");
  auto gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(reinterpret_cast<void*>(GetProcAddress(lib, "vkGetInstanceProcAddr")));
#else
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    throw std::runtime_error("no Vulkan loader (" + name + ": " + (why ? why : "not found") + "; install libvulkan1 and a Vulkan driver)");
  }
  auto gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
#endif
  if (!gipa) throw std::runtime_error("no Vulkan loader (" + name + " has no vkGetInstanceProcAddr)");
  opened[name] = gipa;
  return gipa;
}

}  // namespace

Functions loadGlobal() {
  Functions f;
  f.vkGetInstanceProcAddr = openLibrary();
#define BITLENS_VK_LOAD(name) f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(VK_NULL_HANDLE, #name));
  BITLENS_VK_GLOBAL(BITLENS_VK_LOAD)
#undef BITLENS_VK_LOAD
  if (!f.vkCreateInstance) throw std::runtime_error("no Vulkan loader (vkCreateInstance missing)");
  return f;
}

void loadInstance(Functions& f, VkInstance instance) {
#define BITLENS_VK_LOAD(name)                                                                                 \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(instance, #name));                            \
  if (!f.name) throw std::runtime_error("the Vulkan loader lacks " #name " (Vulkan 1.1 or newer is needed)");
  BITLENS_VK_INSTANCE(BITLENS_VK_LOAD)
#undef BITLENS_VK_LOAD
}

void loadDevice(Functions& f, VkDevice device) {
#define BITLENS_VK_LOAD(name)                                                            \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetDeviceProcAddr(device, #name));           \
  if (!f.name) throw std::runtime_error("the Vulkan device lacks " #name);
  BITLENS_VK_DEVICE(BITLENS_VK_LOAD)
#undef BITLENS_VK_LOAD
}

std::string resultName(VkResult r) {
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    default: return "VkResult " + std::to_string(static_cast<int>(r));
  }
}

}  // namespace bitlens::vk
#endif
