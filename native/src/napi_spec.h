// Reading the JS side's model spec and run options in the addon's classes (NativeModel, VulkanModel):
// typed checks that throw a JS TypeError / RangeError naming the field.
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "model_config.h"

namespace bitlens {

inline size_t uint(const Napi::Env& env, const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0) throw Napi::RangeError::New(env, std::string(key) + " must be a non-negative integer");
  return static_cast<size_t>(d);
}

template <typename T>
T typed(const Napi::Env& env, const Napi::Value& v, napi_typedarray_type type, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw Napi::TypeError::New(env, what + " has the wrong array type");
  return v.As<T>();
}

/** The model's shape from a spec object (engine/common/config.ts field names). */
inline ModelConfig readModelConfig(const Napi::Env& env, const Napi::Object& spec) {
  ModelConfig c;
  c.vocab = uint(env, spec, "vocabSize");
  c.d = uint(env, spec, "hiddenSize");
  c.layers = uint(env, spec, "numLayers");
  c.heads = uint(env, spec, "numHeads");
  c.kvHeads = uint(env, spec, "numKvHeads");
  c.headDim = uint(env, spec, "headDim");
  c.ffn = uint(env, spec, "intermediateSize");
  c.maxPos = uint(env, spec, "maxPositionEmbeddings");
  c.eps = spec.Get("rmsNormEps").As<Napi::Number>().DoubleValue();
  c.theta = spec.Get("ropeTheta").As<Napi::Number>().DoubleValue();
  const std::string act = spec.Get("activation").IsString() ? spec.Get("activation").As<Napi::String>().Utf8Value() : "";
  if (act != "relu2glu" && act != "swiglu") throw Napi::RangeError::New(env, "activation must be relu2glu or swiglu");
  c.relu2 = act == "relu2glu";
  return c;
}

/** o[key] as a Float32Array of n elements. */
inline Napi::Float32Array floatsOf(const Napi::Env& env, const Napi::Object& o, const char* key, size_t n) {
  auto a = typed<Napi::Float32Array>(env, o.Get(key), napi_float32_array, key);
  if (a.ElementLength() != n) throw Napi::RangeError::New(env, std::string(key) + " must have " + std::to_string(n) + " elements");
  return a;
}

/** One projection of a layer: its packed ternary bytes (rows x cols / 4) and alpha. */
struct ProjectionSpec {
  Napi::Uint8Array packed;
  size_t rows = 0, cols = 0;
  double alpha = 0;
};

/** One entry of spec.layers: the four norm vectors and the seven projections. */
struct LayerSpec {
  Napi::Float32Array inputNorm, attnSubNorm, postAttnNorm, ffnSubNorm;
  ProjectionSpec q, k, v, o, gate, up, down;
};

/** spec.layers, every array's length and every projection's shape checked against the config. */
inline std::vector<LayerSpec> readLayerSpecs(const Napi::Env& env, const Napi::Object& spec, const ModelConfig& c) {
  const Napi::Value layersV = spec.Get("layers");
  if (!layersV.IsArray() || layersV.As<Napi::Array>().Length() != c.layers) throw Napi::TypeError::New(env, "spec.layers must have numLayers entries");
  const size_t attn = c.heads * c.headDim, kvw = c.kvHeads * c.headDim;
  std::vector<LayerSpec> layers(c.layers);
  for (uint32_t i = 0; i < c.layers; i++) {
    const Napi::Object l = layersV.As<Napi::Array>().Get(i).As<Napi::Object>();
    LayerSpec& L = layers[i];
    L.inputNorm = floatsOf(env, l, "inputNorm", c.d);
    L.attnSubNorm = floatsOf(env, l, "attnSubNorm", attn);
    L.postAttnNorm = floatsOf(env, l, "postAttnNorm", c.d);
    L.ffnSubNorm = floatsOf(env, l, "ffnSubNorm", c.ffn);
    auto lin = [&](const char* key, ProjectionSpec& out, size_t rows, size_t cols) {
      const Napi::Value v = l.Get(key);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "layer " + std::to_string(i) + ": missing projection " + key);
      const Napi::Object p = v.As<Napi::Object>();
      auto packed = typed<Napi::Uint8Array>(env, p.Get("packed"), napi_uint8_array, key);
      if (uint(env, p, "rows") != rows || uint(env, p, "cols") != cols || packed.ElementLength() != rows * cols / 4)
        throw Napi::RangeError::New(env, "layer " + std::to_string(i) + " " + key + ": shape does not match the config");
      out = {packed, rows, cols, p.Get("alpha").As<Napi::Number>().DoubleValue()};
    };
    lin("q", L.q, attn, c.d);
    lin("k", L.k, kvw, c.d);
    lin("v", L.v, kvw, c.d);
    lin("o", L.o, c.d, attn);
    lin("gate", L.gate, c.ffn, c.d);
    lin("up", L.up, c.ffn, c.d);
    lin("down", L.down, c.d, c.ffn);
  }
  return layers;
}

}  // namespace bitlens
