// `bitlens bench`: fixed-length prefill + decode on a model (random token ids, EOS ignored), after a
// short warm-up run; prints prefill and decode tokens/s, time to first token and peak memory.
import { seededRandom } from '../engine/common/sampling.js';
import type { RunOptions } from '../engine/common/api.js';
import { createEngine, type NodeEngine } from '../engine/node/engine.js';
import { deviceLine, mib } from './format.js';
import { MATMUL_MODES, type MatMulMode } from '../engine/node/graph/ops.js';
import { LM_HEADS, type LmHeadChoice } from '../engine/node/native/cpu-model.js';
import { openModelArg } from './open-model.js';
import { cpuBackend, device, experiment, kvBits, num, oneOf, parse, runScheme, scheme } from './options.js';

export const BENCH_USAGE = `bitlens bench [--model DIR|HF-DIR|FILE.gguf] [--scheme S] [--device D] [--cpu-backend auto|ort|native] [--kv-bits 16|8|4|3]
              [--prompt-tokens N] [--gen-tokens N] [--threads N] [--lut-gemm] [--matmul fp32|int8-exact|int8-approx] [--lm-head screened|full] [--verify] [--json]
              [--experiment v2-retrofit-w16a4]`;

/**
 * The same prompt on a CPU engine (exact int8 path): largest logit difference and whether 8 greedy
 * tokens agree. A check that a GPU backend computes the same model, not a speed number.
 */
async function verifyAgainstCpu(engine: NodeEngine, dir: string, run: RunOptions, prompt: number[]) {
  const cpu = await createEngine(dir, { ...run, device: 'cpu' }, { cpuBackend: 'ort' });
  try {
    const a = (await engine.forward(prompt, true)).logits;
    const b = (await cpu.forward(prompt, true)).logits;
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(b[i]));
    }
    const sampling = { maxTokens: 8, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, stop: [] };
    const ga = await engine.generateFromIds(prompt, sampling, undefined, undefined, { ignoreEos: true });
    const gb = await cpu.generateFromIds(prompt, sampling, undefined, undefined, { ignoreEos: true });
    return { device: engine.info.device, maxAbsLogitDiff: maxAbsDiff, maxAbsLogit: maxAbs, greedyEqual: ga.tokenIds.join() === gb.tokenIds.join() };
  } finally {
    await cpu.close();
  }
}

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
    verify: { type: 'boolean' },
    experiment: { type: 'string' },
    'cpu-backend': { type: 'string' },
    'lm-head': { type: 'string' },
  });
  const promptTokens = num('prompt-tokens', o['prompt-tokens'], { integer: true, min: 1 }) ?? 128;
  const genTokens = num('gen-tokens', o['gen-tokens'], { integer: true, min: 2 }) ?? 64;
  const threads = num('threads', o.threads, { integer: true, min: 1 });
  oneOf('matmul', o.matmul, MATMUL_MODES);
  oneOf('lm-head', o['lm-head'], LM_HEADS);
  const exp = experiment(o.experiment);
  const backend = cpuBackend(o['cpu-backend']);
  const requested = { scheme: scheme(o.scheme), kvBits: kvBits(o['kv-bits']), device: device(o.device) };
  const dir = await openModelArg(o.model);
  const run = { ...requested, scheme: runScheme(requested.scheme, exp, dir), taps: false, ...(exp && { experiment: exp }) };

  const t0 = performance.now();
  const engine = await createEngine(dir, run, {
    threads,
    sessionConfig: o['lut-gemm'] ? { 'mlas.use_lut_gemm': '1' } : undefined,
    matmul: o['matmul'] as MatMulMode | undefined,
    cpuBackend: backend,
    lmHead: o['lm-head'] as LmHeadChoice | undefined,
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
    const head0 = engine.lmHeadStats();
    const r = await engine.generateFromIds(prompt, sampling, undefined, undefined, { ignoreEos: true });
    const s = r.stats;
    const head1 = engine.lmHeadStats();
    // Screened LM head (native CPU): rows computed exactly per generated token in the measured run.
    const lmHead: { lmHead: 'screened' | 'full'; lmHeadRowsPerToken?: number; lmHeadInt8Bytes?: number } =
      head0 && head1
        ? { lmHead: 'screened', lmHeadRowsPerToken: +((head1.rescoredRows - head0.rescoredRows) / Math.max(1, head1.steps - head0.steps)).toFixed(1), lmHeadInt8Bytes: head1.bytes }
        : { lmHead: 'full' };
    const result = {
      model: engine.info.name,
      scheme: run.scheme,
      kvBits: run.kvBits,
      device: engine.info.device,
      deviceNote: engine.info.deviceNote,
      experimentNote: engine.info.experimentNote,
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
      ...lmHead,
    };
    const verification = o.verify ? await verifyAgainstCpu(engine, dir, run, prompt.slice(0, 16)) : undefined;
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ...result, verification })}\n`);
      return;
    }
    if (verification) process.stdout.write(`verify vs cpu: ${JSON.stringify(verification)}\n`);
    process.stdout.write(
      [
        deviceLine(engine.info),
        `load (model + graph and session, or kernel layout): ${result.loadMs} ms`,
        `prefill: ${result.promptTokens} tokens, TTFT ${result.timeToFirstTokenMs} ms, ${result.prefillTokensPerSec} tok/s`,
        `decode: ${result.generatedTokens} tokens, ${result.decodeTokensPerSec} tok/s (${result.decodeMsPerToken} ms/token)`,
        `weights: ${mib(result.weightBytesPacked)} as stored (fp16 would be ${mib(result.weightBytesFp16)}); KV cache ${mib(result.kvCacheBytes)}`,
        ...(lmHead.lmHeadInt8Bytes !== undefined ? [`LM head: screened, ${lmHead.lmHeadRowsPerToken} rows re-scored per token (int8 copy ${mib(lmHead.lmHeadInt8Bytes)})`] : []),
        `peak RSS: ${mib(result.peakRssBytes)}`,
      ].join('\n') + '\n',
    );
  } finally {
    await engine.close();
  }
}
