// Where the native CPU backend's decode time goes (issue 7): ms/token per phase of
// NativeCpuModel.profile and the rate of the ternary products (packed weight bytes streamed per
// token / matmul time), per scheme and thread count. A benchmark, not a test.
//
//   npx tsx scripts/bench-native.ts --model /tmp/race/model [--threads 1,2] [--schemes b1.58,v2-a4] [--tokens 24] [--rounds 3] [--isa avx2]
//
// The machine may be shared: every configuration runs --rounds blocks of --tokens decode tokens,
// rotating the order, and reports the fastest block (phases from that block).
import { parseArgs } from 'node:util';
import type { Scheme } from '../engine/common/scheme.js';
import { loadModelDir } from '../engine/node/model-dir.js';
import { NativeCpuModel } from '../engine/node/native/cpu-model.js';
import { checkIsa, type NativeProfile } from '../engine/node/native/addon.js';

const { values } = parseArgs({
  options: { model: { type: 'string' }, threads: { type: 'string', default: '1,2' }, schemes: { type: 'string', default: 'b1.58,v2-a4' }, tokens: { type: 'string', default: '24' }, rounds: { type: 'string', default: '3' }, isa: { type: 'string' } },
  strict: true,
});
if (!values.model) throw new Error('--model DIR is required (e.g. from scripts/make-random-model.ts --shape 2b4t)');
const threads = values.threads.split(',').map(Number);
const schemes = values.schemes.split(',') as Scheme[];
const tokens = Number(values.tokens);
const rounds = Number(values.rounds);
const isa = values.isa === undefined ? undefined : checkIsa(values.isa);

const weights = (await loadModelDir(values.model)).weights;
// Every projection streams once per token (W_up in full: with more than a third of the relu2 gate
// active, as on random weights, decoding computes all of it).
const bytesPerToken = weights.layers.reduce((s, l) => s + l.q.packed.length + l.k.packed.length + l.v.packed.length + l.o.packed.length + l.gate.packed.length + l.up.packed.length + l.down.packed.length, 0);
console.log(`${values.model}: ${(bytesPerToken / 1e6).toFixed(0)} MB of packed ternary weights per token`);

const runs = schemes.flatMap((scheme) => threads.map((t) => ({ scheme, threads: t, model: new NativeCpuModel(weights, { scheme, kvBits: 16, threads: t, isa }), best: Infinity, phases: {} as NativeProfile })));
for (const r of runs) r.model.forward(Array.from({ length: 16 }, (_, i) => i + 5));
for (let round = 0; round < rounds; round++) {
  for (const r of round % 2 ? [...runs].reverse() : runs) {
    const p0 = r.model.profile;
    const t0 = performance.now();
    for (let i = 0; i < tokens; i++) r.model.forward([100 + ((round * tokens + i) % 1000)]);
    const ms = (performance.now() - t0) / tokens;
    if (ms < r.best) {
      const p1 = r.model.profile;
      r.best = ms;
      r.phases = Object.fromEntries(Object.entries(p1).map(([k, v]) => [k, (v - p0[k as keyof NativeProfile]) / tokens])) as unknown as NativeProfile;
    }
  }
}
for (const r of runs) {
  const p = r.phases;
  const phases = Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  console.log(`${r.scheme} ${r.model.isa} threads ${r.threads}: ${r.best.toFixed(1)} ms/token (${phases}); ternary products ${(bytesPerToken / p.matmul / 1e6).toFixed(1)} GB/s`);
}
