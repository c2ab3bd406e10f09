// Vulkan structs are initialised as {sType} with the rest zero: the idiom, not a missing field.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include "context.h"

#if defined(BITLENS_HAVE_VULKAN)
#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace bitlens::vk {

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string("Vulkan: ") + what + " failed (" + resultName(r) + ")");
}

namespace {

constexpr VkDeviceSize kStaging = 64u << 20;

int typeRank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
  }
}

}  // namespace

Context::Context() : f_(loadGlobal()) {
  uint32_t version = VK_API_VERSION_1_0;
  if (f_.vkEnumerateInstanceVersion) f_.vkEnumerateInstanceVersion(&version);
  if (version < VK_API_VERSION_1_1) throw std::runtime_error("the Vulkan loader is older than 1.1");
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "bitlens";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ici.pApplicationInfo = &app;
  VkResult r = f_.vkCreateInstance(&ici, nullptr, &instance_);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) throw std::runtime_error("no Vulkan device (the loader found no driver: VK_ERROR_INCOMPATIBLE_DRIVER)");
  check(r, "vkCreateInstance");
  try {
    loadInstance(f_, instance_);
    uint32_t n = 0;
    f_.vkEnumeratePhysicalDevices(instance_, &n, nullptr);
    if (n == 0) throw std::runtime_error("no Vulkan device (the Vulkan loader lists no physical device)");
    std::vector<VkPhysicalDevice> devs(n);
    check(f_.vkEnumeratePhysicalDevices(instance_, &n, devs.data()), "vkEnumeratePhysicalDevices");
    int best = -1;
    for (VkPhysicalDevice d : devs) {
      VkPhysicalDeviceProperties p;
      f_.vkGetPhysicalDeviceProperties(d, &p);
      uint32_t qn = 0;
      f_.vkGetPhysicalDeviceQueueFamilyProperties(d, &qn, nullptr);
      std::vector<VkQueueFamilyProperties> qs(qn);
      f_.vkGetPhysicalDeviceQueueFamilyProperties(d, &qn, qs.data());
      // Prefer a compute queue family of a device of the best type; the first such family.
      for (uint32_t i = 0; i < qn; i++) {
        if (!(qs[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || p.apiVersion < VK_API_VERSION_1_1) continue;
        if (typeRank(p.deviceType) > best) {
          best = typeRank(p.deviceType);
          phys_ = d;
          family_ = i;
          timestampBits_ = qs[i].timestampValidBits;
        }
        break;
      }
    }
    if (!phys_) throw std::runtime_error("no Vulkan device with a compute queue and Vulkan 1.1");
    f_.vkGetPhysicalDeviceProperties(phys_, &props_);
    f_.vkGetPhysicalDeviceMemoryProperties(phys_, &mem_);
    // The shaders reduce with subgroup sums (GL_KHR_shader_subgroup_arithmetic) in compute.
    VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &sg;
    f_.vkGetPhysicalDeviceProperties2(phys_, &p2);
    const VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    if (!(sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) || (sg.supportedOperations & need) != need || sg.subgroupSize == 0)
      throw std::runtime_error(std::string("the Vulkan device ") + props_.deviceName + " lacks subgroup arithmetic in compute shaders");
    subgroupSize_ = sg.subgroupSize;

    const float priority = 1;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    check(f_.vkCreateDevice(phys_, &dci, nullptr, &device_), "vkCreateDevice");
    loadDevice(f_, device_);
    f_.vkGetDeviceQueue(device_, family_, 0, &queue_);

    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = family_;
    check(f_.vkCreateCommandPool(device_, &pci, nullptr, &pool_), "vkCreateCommandPool");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(f_.vkCreateFence(device_, &fci, nullptr, &fence_), "vkCreateFence");

    VkDescriptorSetLayoutBinding b[kBindings];
    for (uint32_t i = 0; i < kBindings; i++) b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo lci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    lci.bindingCount = kBindings;
    lci.pBindings = b;
    check(f_.vkCreateDescriptorSetLayout(device_, &lci, nullptr, &setLayout_), "vkCreateDescriptorSetLayout");
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
    VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    plci.setLayoutCount = 1;
    plci.pSetLayouts = &setLayout_;
    plci.pushConstantRangeCount = 1;
    plci.pPushConstantRanges = &range;
    check(f_.vkCreatePipelineLayout(device_, &plci, nullptr, &pipelineLayout_), "vkCreatePipelineLayout");
  } catch (...) {
    release();
    throw;
  }
}

Context::~Context() { release(); }

void Context::release() {
  if (device_) {
    f_.vkDeviceWaitIdle(device_);
    destroy(staging_);
    // Buffers of an owner whose constructor failed half-way.
    for (auto& [buf, mem] : live_) {
      f_.vkDestroyBuffer(device_, buf, nullptr);
      f_.vkFreeMemory(device_, mem, nullptr);
    }
    live_.clear();
    for (VkPipeline p : pipelines_) f_.vkDestroyPipeline(device_, p, nullptr);
    pipelines_.clear();
    if (pipelineLayout_) f_.vkDestroyPipelineLayout(device_, pipelineLayout_, nullptr);
    if (setLayout_) f_.vkDestroyDescriptorSetLayout(device_, setLayout_, nullptr);
    if (fence_) f_.vkDestroyFence(device_, fence_, nullptr);
    if (pool_) f_.vkDestroyCommandPool(device_, pool_, nullptr);
    f_.vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
  }
  if (instance_) {
    f_.vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
  }
}

std::string Context::deviceType() const {
  switch (props_.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

uint32_t Context::memoryType(uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) const {
  for (uint32_t i = 0; i < mem_.memoryTypeCount; i++) {
    const VkMemoryPropertyFlags f = mem_.memoryTypes[i].propertyFlags;
    if ((bits & (1u << i)) && (f & want) == want && !(f & avoid)) return i;
  }
  return UINT32_MAX;
}

Buffer Context::buffer(VkDeviceSize size, Mem kind) {
  const bool host = kind != Mem::Device;
  Buffer b;
  b.size = std::max<VkDeviceSize>(size, 16);
  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = b.size;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(f_.vkCreateBuffer(device_, &bci, nullptr, &b.buf), "vkCreateBuffer");
  VkMemoryRequirements req;
  f_.vkGetBufferMemoryRequirements(device_, b.buf, &req);
  uint32_t type;
  if (kind == Mem::Readback) {
    // Read-back wants cached memory (CPU reads of uncached memory are slow).
    type = memoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type == UINT32_MAX) type = memoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  } else if (kind == Mem::Upload) {
    type = memoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  } else {
    type = memoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  }
  if (type == UINT32_MAX) {
    f_.vkDestroyBuffer(device_, b.buf, nullptr);
    throw std::runtime_error(std::string("Vulkan: no ") + (host ? "host-visible" : "device-local") + " memory type for a buffer");
  }
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = type;
  VkResult r = f_.vkAllocateMemory(device_, &mai, nullptr, &b.mem);
  if (r != VK_SUCCESS) {
    f_.vkDestroyBuffer(device_, b.buf, nullptr);
    throw std::runtime_error("Vulkan: could not allocate " + std::to_string(req.size >> 20) + " MiB of " + (host ? "host-visible" : "device") + " memory (" + resultName(r) + ")");
  }
  live_.emplace_back(b.buf, b.mem);
  check(f_.vkBindBufferMemory(device_, b.buf, b.mem, 0), "vkBindBufferMemory");
  if (host) {
    check(f_.vkMapMemory(device_, b.mem, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
    b.coherent = mem_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  }
  return b;
}

void Context::destroy(Buffer& b) {
  live_.erase(std::remove(live_.begin(), live_.end(), std::make_pair(b.buf, b.mem)), live_.end());
  if (b.buf) f_.vkDestroyBuffer(device_, b.buf, nullptr);
  if (b.mem) f_.vkFreeMemory(device_, b.mem, nullptr);
  b = Buffer();
}

void Context::oneShot(const std::function<void(VkCommandBuffer)>& rec) {
  VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cai.commandPool = pool_;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  VkCommandBuffer cb;
  check(f_.vkAllocateCommandBuffers(device_, &cai, &cb), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  f_.vkBeginCommandBuffer(cb, &bi);
  rec(cb);
  check(f_.vkEndCommandBuffer(cb), "vkEndCommandBuffer");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  check(f_.vkQueueSubmit(queue_, 1, &si, fence_), "vkQueueSubmit");
  check(f_.vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  f_.vkResetFences(device_, 1, &fence_);
  // Freed with the pool: one-shot buffers are few (uploads at load time).
}

void Context::uploadWith(Buffer& dst, VkDeviceSize size, const std::function<void(uint8_t*, size_t, size_t)>& fill) {
  if (dst.mapped) {
    fill(static_cast<uint8_t*>(dst.mapped), 0, size);
    return;
  }
  if (!staging_.buf) staging_ = buffer(kStaging, Mem::Upload);
  for (VkDeviceSize off = 0; off < size; off += kStaging) {
    const VkDeviceSize n = std::min(kStaging, size - off);
    fill(static_cast<uint8_t*>(staging_.mapped), off, n);
    oneShot([&](VkCommandBuffer cb) {
      VkBufferCopy c{0, off, n};
      f_.vkCmdCopyBuffer(cb, staging_.buf, dst.buf, 1, &c);
    });
  }
}

void Context::upload(Buffer& dst, VkDeviceSize offset, const void* data, size_t n) {
  if (dst.mapped) {
    std::memcpy(static_cast<uint8_t*>(dst.mapped) + offset, data, n);
    return;
  }
  if (!staging_.buf) staging_ = buffer(kStaging, Mem::Upload);
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t off = 0; off < n; off += kStaging) {
    const size_t len = std::min<size_t>(kStaging, n - off);
    std::memcpy(staging_.mapped, p + off, len);
    oneShot([&](VkCommandBuffer cb) {
      VkBufferCopy c{0, offset + off, len};
      f_.vkCmdCopyBuffer(cb, staging_.buf, dst.buf, 1, &c);
    });
  }
}

VkPipeline Context::pipeline(const uint32_t* code, size_t bytes, const std::vector<uint32_t>& spec) {
  VkShaderModuleCreateInfo smci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  smci.codeSize = bytes;
  smci.pCode = code;
  VkShaderModule module;
  check(f_.vkCreateShaderModule(device_, &smci, nullptr, &module), "vkCreateShaderModule");
  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); i++) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{static_cast<uint32_t>(spec.size()), entries.data(), spec.size() * 4, spec.data()};
  VkComputePipelineCreateInfo cpci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  cpci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  cpci.stage.module = module;
  cpci.stage.pName = "main";
  cpci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
  cpci.layout = pipelineLayout_;
  VkPipeline p;
  VkResult r = f_.vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &cpci, nullptr, &p);
  f_.vkDestroyShaderModule(device_, module, nullptr);
  check(r, "vkCreateComputePipelines");
  pipelines_.push_back(p);
  return p;
}

}  // namespace bitlens::vk
#endif
