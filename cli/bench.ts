// `bitlens bench`: fixed-length prefill + decode on a model (random token ids, EOS ignored), after a
// short warm-up run; prints prefill and decode tokens/s, time to first token and peak memory.
import { seededRandom } from '../engine/common/sampling.js';
import { createEngine } from '../engine/node/engine.js';
import { deviceLine, mib } from './format.js';
import { MATMUL_MODES, type MatMulMode } from '../engine/node/graph/ops.js';
import { device, kvBits, modelDir, modelScheme, num, oneOf, parse, scheme } from './options.js';

export const BENCH_USAGE = `bitlens bench [--model DIR] [--scheme S] [--device D] [--kv-bits 16|8|4|3]
              [--prompt-tokens N] [--gen-tokens N] [--threads N] [--lut-gemm] [--matmul fp32|int8-exact|int8-approx] [--json]`;

export async function bench(argv: string[]): Promise<void> {
  const o = parse(argv, {
    model: { type: 'string' },
    scheme: { type: 'string' },
    device: { type: 'string' },
    'kv-bits': { type: 'string' },
    'prompt-tokens': { type: 'string' },
    'gen-tokens': { type: 'string' },
    threads: { type: 'string' },
    'lut-gemm': { type: 'boolean' },
    matmul: { type: 'string' },
    json: { type: 'boolean' },
  });
  const promptTokens = num('prompt-tokens', o['prompt-tokens'], { integer: true, min: 1 }) ?? 128;
  const genTokens = num('gen-tokens', o['gen-tokens'], { integer: true, min: 2 }) ?? 64;
  const threads = num('threads', o.threads, { integer: true, min: 1 });
  oneOf('matmul', o.matmul, MATMUL_MODES);
  const dir = modelDir(o.model);
  const run = { scheme: scheme(o.scheme) ?? modelScheme(dir), kvBits: kvBits(o['kv-bits']), device: device(o.device), taps: false };

  const t0 = performance.now();
  const engine = await createEngine(dir, run, {
    threads,
    sessionConfig: o['lut-gemm'] ? { 'mlas.use_lut_gemm': '1' } : undefined,
    matmul: o['matmul'] as MatMulMode | undefined,
  });
  const loadMs = performance.now() - t0;
  const c = engine.info.config as { vocab_size: number; eos_token_id: number | number[] };
  if (promptTokens + genTokens > engine.info.contextLength) {
    throw new RangeError(`--prompt-tokens + --gen-tokens = ${promptTokens + genTokens} exceeds the context of ${engine.info.contextLength}`);
  }
  const random = seededRandom(1234);
  const prompt = Array.from({ length: promptTokens }, () => Math.floor(random() * Math.min(c.vocab_size, 256)));
  const sampling = { maxTokens: genTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
  try {
    await engine.generateFromIds(prompt.slice(0, 8), { ...sampling, maxTokens: 4 }, undefined, undefined, { ignoreEos: true }); // warm-up
    const r = await engine.generateFromIds(prompt, sampling, undefined, undefined, { ignoreEos: true });
    const s = r.stats;
    const result = {
      model: engine.info.name,
      scheme: run.scheme,
      kvBits: run.kvBits,
      device: engine.info.device,
      deviceNote: engine.info.deviceNote,
      matmul: (o.matmul ?? 'default') + (o['lut-gemm'] ? ' + lut gemm' : ''),
      promptTokens: s.promptTokens,
      generatedTokens: s.generatedTokens,
      loadMs: Math.round(loadMs),
      timeToFirstTokenMs: +s.timeToFirstTokenMs.toFixed(2),
      prefillTokensPerSec: +s.prefillTokensPerSec.toFixed(2),
      decodeTokensPerSec: +s.decodeTokensPerSec.toFixed(2),
      decodeMsPerToken: +(1000 / s.decodeTokensPerSec).toFixed(3),
      weightBytesPacked: engine.info.weightBytesPacked,
      weightBytesFp16: engine.info.weightBytesFp16,
      kvCacheBytes: s.kvCacheBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(
      [
        deviceLine(engine.info),
        `load (graph build + session): ${result.loadMs} ms`,
        `prefill: ${result.promptTokens} tokens, TTFT ${result.timeToFirstTokenMs} ms, ${result.prefillTokensPerSec} tok/s`,
        `decode: ${result.generatedTokens} tokens, ${result.decodeTokensPerSec} tok/s (${result.decodeMsPerToken} ms/token)`,
        `weights: ${mib(result.weightBytesPacked)} as stored (fp16 would be ${mib(result.weightBytesFp16)}); KV cache ${mib(result.kvCacheBytes)}`,
        `peak RSS: ${mib(result.peakRssBytes)}`,
      ].join('\n') + '\n',
    );
  } finally {
    await engine.close();
  }
}
