// Microbenchmark of the v2-a4 per-token steps between the products (issue 7): the float64 Hadamard
// transform of the 2B-4T widths (2560 = 20 x 128 before W_o, 6912 = 108 x 64 before W_down), serial
// and split over a 2-thread pool as Model::forward does, and the INT4 absmean / INT8 absmax
// quantizers. A benchmark, not a test: prints the median microseconds per call over rounds.
// Built against the objects of an addon build (every object but addon.o):
//
//   node scripts/build-native.mjs
//   B=native/build/obj; c++ -O2 -std=c++17 -pthread -Inative/src scripts/bench-hadamard.cc \
//     $(ls $B/*.o | grep -v '/addon.o$') -o /tmp/bench-hadamard && /tmp/bench-hadamard [rounds] [avx2|portable]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels.h"
#include "pool.h"

using namespace bitlens;

namespace {

double nowUs() { return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over rounds of the mean time of `reps` calls of fn (which sees a fresh copy of the input).
double timeUs(const std::vector<double>& input, int rounds, int reps, const std::function<void(double*)>& fn) {
  std::vector<double> x(input.size());
  std::vector<double> t;
  for (int r = 0; r < rounds; r++) {
    double total = 0;
    for (int i = 0; i < reps; i++) {
      std::copy(input.begin(), input.end(), x.begin());
      const double t0 = nowUs();
      fn(x.data());
      total += nowUs() - t0;
    }
    t.push_back(total / reps);
  }
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  const std::string path = argc > 2 ? argv[2] : "";
  const Isa isa = path == "avx2" ? Isa::Avx2 : path == "portable" ? Isa::Portable : bestIsa();
  ThreadPool pool(2);
  const ParallelFor split = [&](size_t n, const std::function<void(size_t, size_t)>& fn, size_t align) { pool.parallelFor(n, fn, align); };
  std::mt19937_64 rng(7);
  std::normal_distribution<double> nd(0, 1);
  std::printf("isa %s, %d rounds (median us per call)\n", isaName(isa), rounds);
  for (size_t n : {2560, 6912}) {
    std::vector<double> x(n);
    for (double& v : x) v = nd(rng);
    const HadamardPlan plan = hadamardPlan(n, isa);
    std::vector<int8_t> q(n);
    const double serial = timeUs(x, rounds, 200, [&](double* p) { hadamardTransform(plan, p, false); });
    const double two = timeUs(x, rounds, 200, [&](double* p) { hadamardTransform(plan, p, false, &split); });
    const double q4 = timeUs(x, rounds, 200, [&](double* p) { quantInt4Absmean(p, n, q.data(), isa); });
    const double q8 = timeUs(x, rounds, 200, [&](double* p) { quantInt8Absmax(p, n, q.data(), isa); });
    // The model's v2-a4 W_o / W_down input: the transform then INT4 absmean, with the absmean sum
    // taken by the quantizer (as on 4+ threads) or beside the transform's H_K step (1-3 threads).
    std::vector<double> out(n);
    const double apart = timeUs(x, rounds, 200, [&](double* p) {
      hadamardTransform(plan, p, false);
      quantInt4Absmean(p, n, q.data(), isa);
    });
    const double fused = timeUs(x, rounds, 200, [&](double* p) {
      double sum;
      hadamardTransform(plan, p, out.data(), false, nullptr, &sum);
      quantInt4Absmean(out.data(), n, sum, q.data(), isa);
    });
    std::printf("n %5zu (%d x %zu): hadamard %.2f us, split over 2 threads %.2f us; int4 absmean %.2f us, int8 absmax %.2f us; "
                "hadamard + int4 %.2f us, with the sum beside the transform %.2f us\n",
                n, plan.K, plan.pow2, serial, two, q4, q8, apart, fused);
  }
  return 0;
}
