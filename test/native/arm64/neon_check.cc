// The NEON kernels against the portable ones, on AArch64 (cross-compiled and run under qemu-aarch64
// by test/native/arm64.test.ts; x86 machines never execute the NEON path otherwise). The portable
// kernels are checked bit-exact against engine/common on x86, so "NEON == portable" carries that
// guarantee over: integer products must be identical and whole forward passes bit-identical.
// Prints one line per failing case and exits 1, or "ok <cases>" and exits 0.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels.h"
#include "model.h"

using namespace bitlens;

namespace {

std::mt19937 rng(20261123);

std::vector<uint8_t> randomPacked(size_t rows, size_t cols) {
  std::vector<uint8_t> p(rows * cols / 4);
  for (auto& b : p) {
    uint8_t v = 0;
    for (int k = 0; k < 4; k++) v |= static_cast<uint8_t>(rng() % 3) << (2 * k);
    b = v;
  }
  return p;
}

int failures = 0, cases = 0;

void fail(const char* what, size_t a, size_t b, size_t c) {
  failures++;
  std::printf("MISMATCH %s (%zu, %zu, %zu)\n", what, a, b, c);
}

// Integer products: every shape class the kernels treat differently (row tails, column padding,
// batches, row subsets through idx).
void checkMatmul() {
  for (size_t rows : {1, 3, 17, 64}) {
    for (size_t cols : {4, 60, 64, 256, 260, 2560}) {
      const std::vector<uint8_t> packed = randomPacked(rows, cols);
      const TernaryMatrix mn = makeTernary(packed.data(), rows, cols, Isa::Neon);
      const TernaryMatrix mp = makeTernary(packed.data(), rows, cols, Isa::Portable);
      for (size_t batch : {1, 2, 5}) {
        std::vector<int8_t> x(batch * cols), xn(batch * mn.colsPadded), xp(batch * mp.colsPadded);
        std::vector<int32_t> xsum(batch, 0);
        for (size_t b = 0; b < batch; b++) {
          for (size_t c = 0; c < cols; c++) {
            x[b * cols + c] = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
            xsum[b] += x[b * cols + c];
          }
          permuteActivations(mn, &x[b * cols], &xn[b * mn.colsPadded]);
          permuteActivations(mp, &x[b * cols], &xp[b * mp.colsPadded]);
        }
        std::vector<uint32_t> idx;
        for (size_t r = 0; r < rows; r += 2) idx.push_back(static_cast<uint32_t>(rows - 1 - r));
        const std::vector<uint32_t>* selections[] = {nullptr, &idx};
        for (const std::vector<uint32_t>* sel : selections) {
          const size_t n = sel ? sel->size() : rows;
          std::vector<int32_t> on(batch * rows, 7), op(batch * rows, 7);
          ternaryMatmulInt8(mn, xn.data(), xsum.data(), batch, on.data(), 0, n, sel ? sel->data() : nullptr);
          ternaryMatmulInt8(mp, xp.data(), xsum.data(), batch, op.data(), 0, n, sel ? sel->data() : nullptr);
          cases++;
          if (on != op) fail(sel ? "ternaryMatmulInt8 idx" : "ternaryMatmulInt8", rows, cols, batch);
        }
      }
    }
  }
}

uint16_t randomHalf() {
  // |x| < 2: sign, exponent 0..15 (subnormals included), any mantissa.
  return static_cast<uint16_t>(((rng() & 1) << 15) | ((rng() % 16) << 10) | (rng() & 0x3ff));
}

// Whole forward passes on a small random model, every quantizer kind, Hadamard on and off, a
// quantized KV cache, two threads: the NEON model must produce the portable model's logits bit for bit.
void checkModel() {
  ModelConfig c;
  c.vocab = 97;
  c.d = 64;
  c.layers = 2;
  c.heads = 4;
  c.kvHeads = 2;
  c.headDim = 16;
  c.ffn = 192;  // 192 = H_12 (x) H_16: a Paley factor
  c.maxPos = 32;
  std::vector<uint16_t> embed(c.vocab * c.d);
  for (auto& h : embed) h = randomHalf();
  std::vector<std::vector<uint8_t>> store;
  auto packed = [&](size_t rows, size_t cols) -> const uint8_t* {
    store.push_back(randomPacked(rows, cols));
    return store.back().data();
  };
  struct Shapes {
    const uint8_t *q, *k, *v, *o, *gate, *up, *down;
  };
  std::vector<Shapes> shapes;
  const size_t attn = c.heads * c.headDim, kvw = c.kvHeads * c.headDim;
  for (size_t l = 0; l < c.layers; l++) {
    shapes.push_back({packed(attn, c.d), packed(kvw, c.d), packed(kvw, c.d), packed(c.d, attn), packed(c.ffn, c.d), packed(c.ffn, c.d),
                      packed(c.d, c.ffn)});
  }
  auto norm = [&](size_t n) {
    std::vector<float> w(n);
    for (auto& x : w) x = 0.5f + static_cast<float>(rng() % 1000) / 1000.f;
    return w;
  };
  const std::vector<float> finalNorm = norm(c.d);
  std::vector<std::vector<float>> norms;
  for (size_t l = 0; l < c.layers * 4; l++) norms.push_back(norm(l % 4 == 3 ? c.ffn : l % 4 == 1 ? attn : c.d));

  auto build = [&](Isa isa, const RunConfig& base) {
    RunConfig run = base;
    run.isa = isa;
    std::vector<Layer> layers(c.layers);
    for (size_t l = 0; l < c.layers; l++) {
      Layer& L = layers[l];
      L.inputNorm = norms[4 * l];
      L.attnSubNorm = norms[4 * l + 1];
      L.postAttnNorm = norms[4 * l + 2];
      L.ffnSubNorm = norms[4 * l + 3];
      const Shapes& s = shapes[l];
      L.q = {makeTernary(s.q, attn, c.d, isa), 0.9};
      L.k = {makeTernary(s.k, kvw, c.d, isa), 1.1};
      L.v = {makeTernary(s.v, kvw, c.d, isa), 0.7};
      L.o = {makeTernary(s.o, c.d, attn, isa), 0.8};
      L.gate = {makeTernary(s.gate, c.ffn, c.d, isa), 1.2};
      L.up = {makeTernary(s.up, c.ffn, c.d, isa), 0.6};
      L.down = {makeTernary(s.down, c.d, c.ffn, isa), 0.5};
    }
    return Model(c, run, std::move(layers), finalNorm, embed.data(), nullptr, nullptr, nullptr);
  };

  const SiteQuant kinds[][4] = {
      {SiteQuant::Int8, SiteQuant::Int8, SiteQuant::Int8, SiteQuant::Int8},        // b1.58
      {SiteQuant::Int4, SiteQuant::Int8Top50, SiteQuant::Int4, SiteQuant::Int8},   // a4.8
      {SiteQuant::Int4, SiteQuant::Int4, SiteQuant::Int4, SiteQuant::Int4},        // v2-a4
      {SiteQuant::None, SiteQuant::None, SiteQuant::None, SiteQuant::None},        // fp
  };
  for (const auto& sites : kinds) {
    for (bool hadamard : {false, true}) {
      for (int kvBits : {16, 4}) {
        RunConfig run;
        std::memcpy(run.sites, sites, sizeof(run.sites));
        run.hadamard = hadamard;
        run.kvBits = kvBits;
        run.threads = 2;
        Model mn = build(Isa::Neon, run), mp = build(Isa::Portable, run);
        std::vector<float> ln(c.vocab), lp(c.vocab);
        std::vector<int32_t> ids = {1, 5, 9, 42, 96};
        for (int step = 0; step < 4; step++) {
          mn.forward(ids, ln.data());
          mp.forward(ids, lp.data());
          cases++;
          if (std::memcmp(ln.data(), lp.data(), ln.size() * sizeof(float)) != 0) fail("Model::forward", static_cast<size_t>(sites[0]), hadamard, kvBits);
          ids = {static_cast<int32_t>(step * 11 % c.vocab)};
        }
      }
    }
  }
}

}  // namespace

int main() {
  if (!isaSupported(Isa::Neon)) {
    std::printf("NEON kernels not compiled in (BITLENS_HAVE_NEON_KERNELS)\n");
    return 2;
  }
  checkMatmul();
  checkModel();
  if (failures) return 1;
  std::printf("ok %d\n", cases);
  return 0;
}
