// Reading the JS side's model spec and run options in the addon's classes (NativeModel, VulkanModel):
// typed checks that throw a JS TypeError / RangeError naming the field.
#pragma once
#include <napi.h>

#include <cmath>
#include <string>

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

}  // namespace bitlens
