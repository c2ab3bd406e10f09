// Node-API bindings (node-addon-api, ABI-stable: one build loads in Node and Electron). Every
// entry point validates its arguments and throws a JavaScript error naming the problem; C++
// exceptions from the kernels become JavaScript errors too (NAPI_CPP_EXCEPTIONS).
#include <napi.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "kernels.h"
#include "model.h"
#include "napi_spec.h"
#include "vulkan/wrap.h"

namespace bitlens {
namespace {

Isa parseIsa(const Napi::Env& env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return bestIsa();
  if (!v.IsString()) throw Napi::TypeError::New(env, "isa must be a string");
  const std::string s = v.As<Napi::String>();
  Isa isa;
  if (s == "portable") isa = Isa::Portable;
  else if (s == "avx2") isa = Isa::Avx2;
  else if (s == "avx512") isa = Isa::Avx512;
  else if (s == "neon") isa = Isa::Neon;
  else throw Napi::RangeError::New(env, "unknown isa \"" + s + "\" (expected portable, avx2, avx512 or neon)");
  if (!isaSupported(isa)) throw Napi::Error::New(env, "this CPU or build does not support the " + s + " kernels");
  return isa;
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array features = Napi::Array::New(env), supported = Napi::Array::New(env);
  uint32_t i = 0;
  for (const std::string& f : cpuFeatureNames()) features.Set(i++, f);
  i = 0;
  for (Isa isa : {Isa::Portable, Isa::Avx2, Isa::Avx512, Isa::Neon})
    if (isaSupported(isa)) supported.Set(i++, isaName(isa));
  o.Set("features", features);
  o.Set("supported", supported);
  o.Set("best", isaName(bestIsa()));
  return o;
}

// quantize(kind, x: Float64Array | Float32Array, bits?, isa?) -> { q: Int8Array, scale }
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "quantize: kind must be a string");
  const std::string kind = info[0].As<Napi::String>();
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "quantize: x must be a Float64Array or Float32Array");
  auto arr = info[1].As<Napi::TypedArray>();
  const size_t n = arr.ElementLength();
  Napi::Int8Array q = Napi::Int8Array::New(env, n);
  double scale;
  if (arr.TypedArrayType() == napi_float64_array) {
    const double* x = arr.As<Napi::Float64Array>().Data();
    const Isa isa = parseIsa(env, info[3]);
    if (kind == "int8") scale = quantInt8Absmax(x, n, q.Data(), isa);
    else if (kind == "int4") scale = quantInt4Absmean(x, n, q.Data(), isa);
    else if (kind == "int8-top50") scale = quantInt8Top50(x, n, q.Data(), isa);
    else if (kind == "kv") {
      if (!info[2].IsNumber()) throw Napi::TypeError::New(env, "quantize: kv needs bits");
      scale = quantKv(x, n, info[2].As<Napi::Number>().Int32Value(), q.Data());
    } else throw Napi::RangeError::New(env, "quantize: unknown kind \"" + kind + "\" (expected int8, int4, int8-top50 or kv)");
  } else if (arr.TypedArrayType() == napi_float32_array) {
    const float* x = arr.As<Napi::Float32Array>().Data();
    if (kind == "int8") scale = quantInt8Absmax(x, n, q.Data());
    else if (kind == "int4") scale = quantInt4Absmean(x, n, q.Data());
    else if (kind == "int8-top50") scale = quantInt8Top50(x, n, q.Data());
    else throw Napi::RangeError::New(env, "quantize: unknown kind \"" + kind + "\" for Float32Array (expected int8, int4 or int8-top50)");
  } else {
    throw Napi::TypeError::New(env, "quantize: x must be a Float64Array or Float32Array");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("q", q);
  o.Set("scale", scale);
  return o;
}

// hadamard(x: Float64Array | Float32Array, inverse?, isa?, threads?) in place over the whole array.
Napi::Value Hadamard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "hadamard: x must be a Float64Array or Float32Array");
  auto arr = info[0].As<Napi::TypedArray>();
  const bool inverse = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  try {
    const HadamardPlan plan = hadamardPlan(arr.ElementLength(), parseIsa(env, info[2]));
    // threads > 1: the H_K step split into that many ranges, each run on a thread of its own (a pool
    // may let the caller take every chunk; this way no range runs on the calling thread).
    const size_t threads = info[3].IsNumber() ? std::min<size_t>(std::max<int64_t>(info[3].As<Napi::Number>().Int64Value(), 1), 64) : 1;
    const ParallelFor parallel = [&](size_t n, const std::function<void(size_t, size_t)>& fn, size_t align) {
      std::vector<std::thread> ts;
      for (size_t t = 0; t < threads; t++) {
        const size_t b = n * t / threads / align * align, e = t + 1 == threads ? n : n * (t + 1) / threads / align * align;
        if (b < e) ts.emplace_back(fn, b, e);
      }
      for (std::thread& th : ts) th.join();
    };
    if (arr.TypedArrayType() == napi_float64_array) hadamardTransform(plan, arr.As<Napi::Float64Array>().Data(), inverse, threads > 1 ? &parallel : nullptr);
    else if (arr.TypedArrayType() == napi_float32_array) hadamardTransform(plan, arr.As<Napi::Float32Array>().Data(), inverse);
    else throw Napi::TypeError::New(env, "hadamard: x must be a Float64Array or Float32Array");
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  }
  return env.Undefined();
}

// ternaryMatmul(packed: Uint8Array, rows, cols, xq: Int8Array (batch * cols), batch, isa?) -> Int32Array (batch * rows)
Napi::Value TernaryMatmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto packed = typed<Napi::Uint8Array>(env, info[0], napi_uint8_array, "packed");
  const size_t rows = info[1].As<Napi::Number>().Int64Value(), cols = info[2].As<Napi::Number>().Int64Value();
  auto xq = typed<Napi::Int8Array>(env, info[3], napi_int8_array, "xq");
  const size_t batch = info[4].As<Napi::Number>().Int64Value();
  const Isa isa = parseIsa(env, info[5]);
  if (cols % 4 || packed.ElementLength() != rows * cols / 4) throw Napi::RangeError::New(env, "ternaryMatmul: packed size does not match rows x cols / 4");
  if (xq.ElementLength() != batch * cols) throw Napi::RangeError::New(env, "ternaryMatmul: xq length must be batch * cols");
  TernaryMatrix m;
  try {
    m = makeTernary(packed.Data(), rows, cols, isa);
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  }
  std::vector<int8_t> x(batch * m.colsPadded, 0);
  std::vector<int32_t> sums(batch, 0);
  for (size_t b = 0; b < batch; b++) {
    permuteActivations(m, xq.Data() + b * cols, x.data() + b * m.colsPadded);
    for (size_t c = 0; c < cols; c++) sums[b] += xq.Data()[b * cols + c];
  }
  Napi::Int32Array out = Napi::Int32Array::New(env, batch * rows);
  // Optional row subset (the W_up skip's indexed path): the other outputs stay 0.
  if (info.Length() > 6 && !info[6].IsUndefined()) {
    auto idx = typed<Napi::Uint32Array>(env, info[6], napi_uint32_array, "rows");
    for (size_t i = 0; i < idx.ElementLength(); i++)
      if (idx.Data()[i] >= rows) throw Napi::RangeError::New(env, "ternaryMatmul: row index " + std::to_string(idx.Data()[i]) + " out of range");
    ternaryMatmulInt8(m, x.data(), sums.data(), batch, out.Data(), 0, idx.ElementLength(), idx.Data());
  } else {
    ternaryMatmulInt8(m, x.data(), sums.data(), batch, out.Data(), 0, rows);
  }
  return out;
}

// Default: two int8 digits of h on VNNI (AVX-512), as fast as the bytes stream and as tight as the
// float32 path (measured on the 2B shape: 374 vs 367 candidates for K = 1, ~1.7x faster pass); float32 h elsewhere (no VNNI).
LmHeadMode parseHeadMode(const Napi::Env& env, const Napi::Value& v, Isa isa) {
  if (v.IsUndefined() || v.IsNull()) return isa == Isa::Avx512 ? LmHeadMode::Int8 : LmHeadMode::F32;
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "f32") return LmHeadMode::F32;
  if (s == "int8") return LmHeadMode::Int8;
  throw Napi::RangeError::New(env, "unknown LM head mode \"" + s + "\" (expected f32 or int8)");
}

// need = { k, penalty, context: Int32Array }: what the sampler needs from the logits (lm-head-screen.ts).
HeadRequest parseHeadRequest(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, "need must be an object { k, penalty, context }");
  const Napi::Object o = v.As<Napi::Object>();
  HeadRequest r;
  r.k = uint(env, o, "k");
  if (r.k < 1) throw Napi::RangeError::New(env, "need.k must be >= 1");
  const Napi::Value p = o.Get("penalty");
  r.penalty = p.IsNumber() ? p.As<Napi::Number>().DoubleValue() : 0;
  if (!(r.penalty > 0) || !std::isfinite(r.penalty)) throw Napi::RangeError::New(env, "need.penalty must be a finite number > 0");
  auto ctx = typed<Napi::Int32Array>(env, o.Get("context"), napi_int32_array, "need.context");
  r.context.assign(ctx.Data(), ctx.Data() + ctx.ElementLength());
  return r;
}

Napi::Int32Array toInt32(const Napi::Env& env, const std::vector<uint32_t>& v) {
  Napi::Int32Array a = Napi::Int32Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a[i] = static_cast<int32_t>(v[i]);
  return a;
}

// screenCandidates(zhat: Float64Array, bound: Float64Array, need) -> Int32Array: the native rule (lm_head.h)
// on given intervals, for comparison with engine/common/lm-head-screen.ts.
Napi::Value ScreenCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto zhat = typed<Napi::Float64Array>(env, info[0], napi_float64_array, "zhat");
  auto bound = typed<Napi::Float64Array>(env, info[1], napi_float64_array, "bound");
  const size_t n = zhat.ElementLength();
  if (bound.ElementLength() != n) throw Napi::RangeError::New(env, "screenCandidates: zhat and bound differ in length");
  const HeadRequest req = parseHeadRequest(env, info[2]);
  if (req.k > n) throw Napi::RangeError::New(env, "screenCandidates: need.k exceeds the number of rows");
  std::vector<double> lo, hi, scratch;
  std::vector<uint32_t> out;
  screenCandidates(zhat.Data(), bound.Data(), n, req, lo, hi, scratch, out);
  return toInt32(env, out);
}

// new LmHead(table: Uint16Array (f16 bits) | Float32Array, rows, cols, { isa, threads, mode }): the
// screened LM head on its own (tests, benchmarks).
class LmHeadWrap : public Napi::ObjectWrap<LmHeadWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "LmHead",
                       {InstanceMethod("approx", &LmHeadWrap::Approx), InstanceMethod("exact", &LmHeadWrap::Exact),
                        InstanceMethod("screened", &LmHeadWrap::Screened), InstanceAccessor("bytes", &LmHeadWrap::Bytes, nullptr)});
  }

  explicit LmHeadWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LmHeadWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "LmHead(table, rows, cols, options) needs a Uint16Array or Float32Array table and two numbers");
    const auto table = info[0].As<Napi::TypedArray>();
    const double rows = info[1].As<Napi::Number>().DoubleValue(), cols = info[2].As<Napi::Number>().DoubleValue();
    if (!(rows >= 1) || !(cols >= 1) || rows != std::floor(rows) || cols != std::floor(cols) || rows * cols != static_cast<double>(table.ElementLength()))
      throw Napi::RangeError::New(env, "LmHead: rows x cols must be positive integers matching the table length");
    const Napi::Object o = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    const Isa isa = parseIsa(env, o.Get("isa"));
    const int threads = o.Get("threads").IsNumber() ? o.Get("threads").As<Napi::Number>().Int32Value() : 1;
    if (threads < 1 || threads > 256) throw Napi::RangeError::New(env, "threads must be in 1..256");
    pool_ = std::make_unique<ThreadPool>(threads);
    const uint16_t* f16 = nullptr;
    const float* f32 = nullptr;
    if (table.TypedArrayType() == napi_uint16_array) f16 = table.As<Napi::Uint16Array>().Data();
    else if (table.TypedArrayType() == napi_float32_array) f32 = table.As<Napi::Float32Array>().Data();
    else throw Napi::TypeError::New(env, "LmHead: table must be a Uint16Array (f16 bits) or a Float32Array");
    ref_ = Napi::Persistent(table.As<Napi::Object>());
    try {
      head_ = std::make_unique<LmHeadInt8>(f16, f32, static_cast<size_t>(rows), static_cast<size_t>(cols), isa, parseHeadMode(env, o.Get("mode"), isa), *pool_);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

 private:
  const float* hidden(const Napi::Env& env, const Napi::Value& v) {
    auto h = typed<Napi::Float32Array>(env, v, napi_float32_array, "h");
    if (h.ElementLength() != head_->cols()) throw Napi::RangeError::New(env, "h must have cols elements");
    return h.Data();
  }
  // approx(h) -> { zhat: Float64Array, bound: Float64Array } | null (no bound for this h)
  Napi::Value Approx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const float* h = hidden(env, info[0]);
    Napi::Float64Array zhat = Napi::Float64Array::New(env, head_->rows()), bound = Napi::Float64Array::New(env, head_->rows());
    if (!head_->approx(*pool_, h, zhat.Data(), bound.Data())) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("zhat", zhat);
    o.Set("bound", bound);
    return o;
  }
  // exact(h) -> Float32Array: the full head (lmHeadF16 / lmHeadF32)
  Napi::Value Exact(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const float* h = hidden(env, info[0]);
    Napi::Float32Array out = Napi::Float32Array::New(env, head_->rows());
    pool_->parallelFor(head_->rows(), [&](size_t v0, size_t v1) { head_->exact(h, out.Data(), v0, v1); });
    return out;
  }
  // screened(h, need) -> { logits: Float32Array, candidates: Int32Array | null (full head) }
  Napi::Value Screened(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const float* h = hidden(env, info[0]);
    const HeadRequest req = parseHeadRequest(env, info[1]);
    Napi::Float32Array logits = Napi::Float32Array::New(env, head_->rows());
    const size_t n = head_->screened(*pool_, h, req, logits.Data());
    Napi::Object o = Napi::Object::New(env);
    o.Set("logits", logits);
    o.Set("candidates", n == head_->rows() && head_->candidates().size() != n ? env.Null() : Napi::Value(toInt32(env, head_->candidates())));
    return o;
  }
  Napi::Value Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(head_->bytes())); }

  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<LmHeadInt8> head_;
  Napi::ObjectReference ref_;
};

SiteQuant parseSite(const Napi::Env& env, const Napi::Value& v) {
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "none") return SiteQuant::None;
  if (s == "int8") return SiteQuant::Int8;
  if (s == "int4") return SiteQuant::Int4;
  if (s == "int8-top50") return SiteQuant::Int8Top50;
  throw Napi::RangeError::New(env, "unknown site quantizer \"" + s + "\"");
}

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod("forward", &ModelWrap::Forward), InstanceMethod("reset", &ModelWrap::Reset),
                        InstanceMethod("taps", &ModelWrap::Taps), InstanceMethod("profile", &ModelWrap::ProfileMs), InstanceAccessor("position", &ModelWrap::Position, nullptr),
                        InstanceAccessor("isa", &ModelWrap::IsaName, nullptr), InstanceAccessor("threads", &ModelWrap::Threads, nullptr),
                        InstanceAccessor("weightBytes", &ModelWrap::WeightBytes, nullptr), InstanceMethod("headStats", &ModelWrap::HeadStats)});
  }

  // new NativeModel(spec, run): spec = { config numbers, activation, embed / embedF16, lmHead / lmHeadF16, norm, layers[] },
  // run = { sites: [qkv, o, gateup, down], hadamard, kvBits, threads, isa, taps, lmHead: 'screened' | 'full', lmHeadMode }.
  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsObject()) throw Napi::TypeError::New(env, "NativeModel(spec, run) needs two objects");
    const Napi::Object spec = info[0].As<Napi::Object>(), run = info[1].As<Napi::Object>();
    const ModelConfig c = readModelConfig(env, spec);
    if (!c.heads || !c.kvHeads || c.heads % c.kvHeads || c.headDim % 2 || c.headDim > 1024 || !c.vocab || !c.d)
      throw Napi::RangeError::New(env, "NativeModel: inconsistent head / width configuration");

    RunConfig rc;
    const Napi::Value sites = run.Get("sites");
    if (!sites.IsArray() || sites.As<Napi::Array>().Length() != 4) throw Napi::TypeError::New(env, "run.sites must be 4 quantizer names");
    for (uint32_t i = 0; i < 4; i++) rc.sites[i] = parseSite(env, sites.As<Napi::Array>().Get(i));
    rc.hadamard = run.Get("hadamard").ToBoolean();
    rc.kvBits = static_cast<int>(uint(env, run, "kvBits"));
    if (rc.kvBits != 16 && (rc.kvBits < 2 || rc.kvBits > 8)) throw Napi::RangeError::New(env, "kvBits must be 16 or 2..8");
    rc.threads = static_cast<int>(uint(env, run, "threads"));
    if (rc.threads < 1 || rc.threads > 256) throw Napi::RangeError::New(env, "threads must be in 1..256");
    rc.isa = parseIsa(env, run.Get("isa"));
    rc.taps = run.Get("taps").ToBoolean();
    const Napi::Value lmHead = run.Get("lmHead");
    const std::string lmHeadName = lmHead.IsString() ? lmHead.As<Napi::String>().Utf8Value() : lmHead.IsUndefined() ? "full" : "";
    if (lmHeadName != "full" && lmHeadName != "screened") throw Napi::RangeError::New(env, "run.lmHead must be full or screened");
    const bool screened = lmHeadName == "screened";
    const LmHeadMode headMode = parseHeadMode(env, run.Get("lmHeadMode"), rc.isa);

    const uint16_t *e16 = nullptr, *h16 = nullptr;
    const float *e32 = nullptr, *h32 = nullptr;
    const size_t embedLen = c.vocab * c.d;
    auto table = [&](const char* f16Key, const char* f32Key, const uint16_t*& p16, const float*& p32, bool required) {
      const Napi::Value v16 = spec.Get(f16Key), v32 = spec.Get(f32Key);
      if (v16.IsTypedArray()) {
        auto a = typed<Napi::Uint16Array>(env, v16, napi_uint16_array, f16Key);
        if (a.ElementLength() != embedLen) throw Napi::RangeError::New(env, std::string(f16Key) + " must have vocabSize * hiddenSize elements");
        p16 = a.Data();
        refs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
      } else if (v32.IsTypedArray()) {
        auto a = typed<Napi::Float32Array>(env, v32, napi_float32_array, f32Key);
        if (a.ElementLength() != embedLen) throw Napi::RangeError::New(env, std::string(f32Key) + " must have vocabSize * hiddenSize elements");
        p32 = a.Data();
        refs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
      } else if (required) {
        throw Napi::TypeError::New(env, std::string("spec needs ") + f16Key + " (Uint16Array) or " + f32Key + " (Float32Array)");
      }
    };
    table("embedF16", "embed", e16, e32, true);
    table("lmHeadF16", "lmHead", h16, h32, false);

    const auto vec = [](const Napi::Float32Array& a) { return std::vector<float>(a.Data(), a.Data() + a.ElementLength()); };
    const std::vector<LayerSpec> specs = readLayerSpecs(env, spec, c);
    std::vector<Layer> layers(c.layers);
    for (uint32_t i = 0; i < c.layers; i++) {
      const LayerSpec& S = specs[i];
      Layer& L = layers[i];
      L.inputNorm = vec(S.inputNorm);
      L.attnSubNorm = vec(S.attnSubNorm);
      L.postAttnNorm = vec(S.postAttnNorm);
      L.ffnSubNorm = vec(S.ffnSubNorm);
      auto lin = [&](const char* key, const ProjectionSpec& p, Linear& out) {
        try {
          out.w = makeTernary(p.packed.Data(), p.rows, p.cols, rc.isa);
        } catch (const std::invalid_argument& e) {
          throw Napi::RangeError::New(env, std::string("layer ") + std::to_string(i) + " " + key + ": " + e.what());
        }
        // The kernels read these bytes in place: keep the array (and its buffer) alive.
        if (out.w.owned.empty()) refs_.push_back(Napi::Persistent(p.packed.As<Napi::Object>()));
        out.alpha = p.alpha;
      };
      lin("q", S.q, L.q);
      lin("k", S.k, L.k);
      lin("v", S.v, L.v);
      lin("o", S.o, L.o);
      lin("gate", S.gate, L.gate);
      lin("up", S.up, L.up);
      lin("down", S.down, L.down);
    }
    std::vector<float> norm = vec(floatsOf(env, spec, "norm", c.d));
    try {
      model_ = std::make_unique<Model>(c, rc, std::move(layers), std::move(norm), e16, e32, h16, h32);
      if (screened) model_->enableScreenedHead(headMode);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

 private:
  // forward(ids: Int32Array, need?) -> Float32Array logits of the last token; with `need` and the
  // screened head, exact for the rows the sampler can pick and -Infinity elsewhere.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto ids = typed<Napi::Int32Array>(env, info[0], napi_int32_array, "ids");
    std::vector<int32_t> v(ids.Data(), ids.Data() + ids.ElementLength());
    std::optional<HeadRequest> need;
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) need = parseHeadRequest(env, info[1]);
    Napi::Float32Array logits = Napi::Float32Array::New(env, model_->config().vocab);
    model_->requestHead(std::move(need));
    try {
      model_->forward(v, logits.Data());
    } catch (const std::invalid_argument& e) {
      model_->requestHead(std::nullopt);
      throw Napi::RangeError::New(env, e.what());
    } catch (...) {
      model_->requestHead(std::nullopt);
      throw;
    }
    return logits;
  }
  // headStats() -> { bytes, steps, rescoredRows } of the screened head, or null (full head)
  Napi::Value HeadStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const LmHeadInt8* h = model_->screenedHead();
    if (!h) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", static_cast<double>(h->bytes()));
    o.Set("steps", static_cast<double>(h->steps()));
    o.Set("rescoredRows", static_cast<double>(h->rescoredRows()));
    return o;
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    model_->reset();
    return info.Env().Undefined();
  }
  Napi::Value Taps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    auto arr = [&](const std::vector<double>& v) {
      Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
      std::copy(v.begin(), v.end(), a.Data());
      return a;
    };
    uint32_t i = 0;
    for (const LayerTaps& t : model_->taps()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("qkv", arr(t.qkv));
      o.Set("o", arr(t.o));
      o.Set("gateup", arr(t.gateup));
      o.Set("down", arr(t.down));
      if (!t.oPre.empty()) o.Set("oPreHadamard", arr(t.oPre));
      if (!t.downPre.empty()) o.Set("downPreHadamard", arr(t.downPre));
      out.Set(i++, o);
    }
    return out;
  }
  Napi::Value ProfileMs(const Napi::CallbackInfo& info) {
    const Profile& p = model_->profile();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("quant", p.quant);
    o.Set("matmul", p.matmul);
    o.Set("attention", p.attention);
    o.Set("lmHead", p.lmHead);
    o.Set("other", p.other);
    return o;
  }
  Napi::Value Position(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(model_->position())); }
  Napi::Value IsaName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isaName(model_->run().isa)); }
  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), model_->run().threads); }
  Napi::Value WeightBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(model_->weightBytes())); }

  std::unique_ptr<Model> model_;
  std::vector<Napi::ObjectReference> refs_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo));
  exports.Set("quantize", Napi::Function::New(env, Quantize));
  exports.Set("hadamard", Napi::Function::New(env, Hadamard));
  exports.Set("ternaryMatmul", Napi::Function::New(env, TernaryMatmul));
  exports.Set("NativeModel", ModelWrap::Init(env));
  exports.Set("LmHead", LmHeadWrap::Init(env));
  exports.Set("VulkanModel", vulkanModelClass(env));
  exports.Set("screenCandidates", Napi::Function::New(env, ScreenCandidates));
  return exports;
}

}  // namespace
}  // namespace bitlens

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return bitlens::Init(env, exports); }

NODE_API_MODULE(bitlens_native, InitAddon)
