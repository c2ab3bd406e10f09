// new VulkanModel(spec, run): spec as NativeModel's (config numbers, activation, embedF16,
// lmHeadF16, norm, layers[]); run = { sites: [qkv, o, gateup, down] ('int8' | 'int4' | 'int8-top50'), hadamard,
// profile, attentionSplits?, gemvRows?, prefillChunk?, taps? }. forward(ids: Int32Array) -> Float32Array logits of the last token;
// taps() -> per layer { qkv, o, gateup, down, oPreHadamard?, downPreHadamard? } (Float32Arrays) of the last token ([] with taps off).
#include "wrap.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../napi_spec.h"
#include "vulkan_model.h"

namespace bitlens {
namespace {

#if defined(BITLENS_HAVE_VULKAN)


class VulkanModelWrap : public Napi::ObjectWrap<VulkanModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "VulkanModel",
                       {InstanceMethod("forward", &VulkanModelWrap::Forward), InstanceMethod("reset", &VulkanModelWrap::Reset),
                        InstanceMethod("gpuTimes", &VulkanModelWrap::GpuTimesJs), InstanceMethod("taps", &VulkanModelWrap::Taps), InstanceMethod("dispose", &VulkanModelWrap::Dispose),
                        InstanceAccessor("position", &VulkanModelWrap::Position, nullptr), InstanceAccessor("device", &VulkanModelWrap::Device, nullptr),
                        InstanceAccessor("weightBytesPerToken", &VulkanModelWrap::WeightBytes, nullptr)});
  }

  explicit VulkanModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VulkanModelWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsObject()) throw Napi::TypeError::New(env, "VulkanModel(spec, run) needs two objects");
    const Napi::Object spec = info[0].As<Napi::Object>(), run = info[1].As<Napi::Object>();
    vk::Config c;
    static_cast<ModelConfig&>(c) = readModelConfig(env, spec);
    const Napi::Value sites = run.Get("sites");
    if (!sites.IsArray() || sites.As<Napi::Array>().Length() != 4) throw Napi::TypeError::New(env, "run.sites must be 4 quantizer names");
    for (uint32_t i = 0; i < 4; i++) {
      const Napi::Value s = sites.As<Napi::Array>().Get(i);
      const std::string name = s.IsString() ? s.As<Napi::String>().Utf8Value() : "";
      if (name == "int8") c.sites[i] = vk::Quant::Int8;
      else if (name == "int4") c.sites[i] = vk::Quant::Int4;
      else if (name == "int8-top50") c.sites[i] = vk::Quant::Int8Top50;
      else throw Napi::RangeError::New(env, "the vulkan backend does not support the site quantizer \"" + name + "\" (it runs int8, int4 and int8-top50)");
    }
    c.hadamard = run.Get("hadamard").ToBoolean();
    c.profile = run.Get("profile").ToBoolean();
    c.taps = run.Get("taps").ToBoolean();
    if (run.Get("attentionSplits").IsNumber()) {
      c.attentionSplits = uint(env, run, "attentionSplits");
      if (c.attentionSplits < 1 || c.attentionSplits > 64) throw Napi::RangeError::New(env, "run.attentionSplits must be in 1..64");
    }
    if (run.Get("gemvRows").IsNumber()) {
      c.gemvRows = static_cast<uint32_t>(uint(env, run, "gemvRows"));
      if (c.gemvRows != 1 && c.gemvRows != 2 && c.gemvRows != 4) throw Napi::RangeError::New(env, "run.gemvRows must be 1, 2 or 4");
    }
    if (run.Get("prefillChunk").IsNumber()) {
      c.prefillChunk = static_cast<uint32_t>(uint(env, run, "prefillChunk"));
      if (c.prefillChunk < 1 || c.prefillChunk > 64) throw Napi::RangeError::New(env, "run.prefillChunk must be in 1..64");
    }

    const size_t tableLen = c.vocab * c.d;
    auto table = [&](const char* key, bool required) -> const uint16_t* {
      const Napi::Value v = spec.Get(key);
      if (!v.IsTypedArray()) {
        if (required) throw Napi::TypeError::New(env, std::string("the vulkan backend needs ") + key + " (F16 bits as a Uint16Array)");
        return nullptr;
      }
      auto a = typed<Napi::Uint16Array>(env, v, napi_uint16_array, key);
      if (a.ElementLength() != tableLen) throw Napi::RangeError::New(env, std::string(key) + " must have vocabSize * hiddenSize elements");
      return a.Data();
    };
    const uint16_t* embed = table("embedF16", true);
    const uint16_t* head = table("lmHeadF16", false);
    if (!c.heads || !c.kvHeads || c.heads % c.kvHeads || c.headDim % 2) throw Napi::RangeError::New(env, "VulkanModel: inconsistent head configuration");
    const std::vector<LayerSpec> specs = readLayerSpecs(env, spec, c);
    std::vector<vk::LayerIn> layers(c.layers);
    for (uint32_t i = 0; i < c.layers; i++) {
      const LayerSpec& S = specs[i];
      vk::LayerIn& L = layers[i];
      L.inputNorm = S.inputNorm.Data();
      L.attnSubNorm = S.attnSubNorm.Data();
      L.postAttnNorm = S.postAttnNorm.Data();
      L.ffnSubNorm = S.ffnSubNorm.Data();
      auto lin = [&](const char* key, const ProjectionSpec& p, vk::LinearIn& out) {
        // The shaders read whole bytes of 4 codes per row.
        if (p.cols % 4) throw Napi::RangeError::New(env, "layer " + std::to_string(i) + " " + key + ": shape does not match the config");
        out = {p.packed.Data(), p.rows, p.cols, p.alpha};
      };
      lin("q", S.q, L.q);
      lin("k", S.k, L.k);
      lin("v", S.v, L.v);
      lin("o", S.o, L.o);
      lin("gate", S.gate, L.gate);
      lin("up", S.up, L.up);
      lin("down", S.down, L.down);
    }
    const float* norm = floatsOf(env, spec, "norm", c.d).Data();
    try {
      model_ = std::make_unique<vk::Model>(c, layers, norm, embed, head);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  vk::Model& live(const Napi::Env& env) {
    if (!model_) throw Napi::Error::New(env, "the Vulkan model was disposed");
    return *model_;
  }
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    vk::Model& m = live(env);
    auto ids = typed<Napi::Int32Array>(env, info[0], napi_int32_array, "ids");
    std::vector<int32_t> v(ids.Data(), ids.Data() + ids.ElementLength());
    Napi::Float32Array logits = Napi::Float32Array::New(env, m.vocab());
    try {
      m.forward(v, logits.Data());
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return logits;
  }
  Napi::Value Taps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const vk::Model& m = live(env);
    const vk::Config& c = m.config();
    const std::vector<float>& t = m.taps();
    Napi::Array out = Napi::Array::New(env);
    if (t.empty()) return out;
    const size_t attn = c.heads * c.headDim, stride = m.tapStride();
    for (uint32_t li = 0; li < c.layers; li++) {
      Napi::Object o = Napi::Object::New(env);
      size_t at = li * stride;
      // tapStride()'s order.
      const auto put = [&](const char* key, size_t n) {
        Napi::Float32Array a = Napi::Float32Array::New(env, n);
        std::copy(t.begin() + static_cast<ptrdiff_t>(at), t.begin() + static_cast<ptrdiff_t>(at + n), a.Data());
        o.Set(key, a);
        at += n;
      };
      put("qkv", c.d);
      put("o", attn);
      put("gateup", c.d);
      put("down", c.ffn);
      if (c.hadamard) {
        put("oPreHadamard", attn);
        put("downPreHadamard", c.ffn);
      }
      out.Set(li, o);
    }
    return out;
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    live(info.Env()).reset();
    return info.Env().Undefined();
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    model_.reset();
    return info.Env().Undefined();
  }
  Napi::Value GpuTimesJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const vk::GpuTimes& t = live(env).gpuTimes();
    Napi::Object o = Napi::Object::New(env), k = Napi::Object::New(env);
    o.Set("totalMs", t.total);
    o.Set("steps", static_cast<double>(t.steps));
    o.Set("submissions", static_cast<double>(t.submissions));
    o.Set("dispatches", static_cast<double>(t.dispatches));
    o.Set("submitWaitMs", t.submitWait);
    o.Set("readbackMs", t.readback);
    for (const auto& [name, ms] : t.kernels) k.Set(name, ms);
    o.Set("kernelsMs", k);
    return o;
  }
  Napi::Value Position(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env()).position())); }
  Napi::Value Device(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", live(env).deviceName());
    o.Set("type", live(env).deviceType());
    return o;
  }
  Napi::Value WeightBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env()).weightBytesPerToken())); }

  std::unique_ptr<vk::Model> model_;
};

#else

class VulkanModelWrap : public Napi::ObjectWrap<VulkanModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env) { return DefineClass(env, "VulkanModel", {}); }
  explicit VulkanModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VulkanModelWrap>(info) {
    throw Napi::Error::New(info.Env(), "the native addon was built without Vulkan headers (install libvulkan-dev and rebuild: npm run build:native)");
  }
};

#endif

}  // namespace

Napi::Function vulkanModelClass(Napi::Env env) { return VulkanModelWrap::Init(env); }

}  // namespace bitlens
