// `bitlens generate`: streams a completion of --prompt to stdout, stats to stderr.
import { DEFAULT_SAMPLING } from '../engine/common/sampling.js';
import { createEngine } from '../engine/node/engine.js';
import { deviceLine, mib, statsLine } from './format.js';
import { openModelArg } from './open-model.js';
import { cpuBackend, device, experiment, kvBits, num, parse, runScheme, scheme, UsageError } from './options.js';

export const GENERATE_USAGE = `bitlens generate --prompt TEXT [--model DIR|HF-DIR|FILE.gguf] [--scheme S] [--device D] [--cpu-backend auto|ort|native] [--kv-bits 16|8|4|3]
                 [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--repetition-penalty R]
                 [--seed N] [--stop TEXT]... [--chat] [--experiment v2-retrofit-w16a4]`;

export async function generate(argv: string[]): Promise<void> {
  const o = parse(argv, {
    model: { type: 'string' },
    prompt: { type: 'string' },
    scheme: { type: 'string' },
    device: { type: 'string' },
    'kv-bits': { type: 'string' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    'top-k': { type: 'string' },
    'repetition-penalty': { type: 'string' },
    seed: { type: 'string' },
    stop: { type: 'string', multiple: true },
    chat: { type: 'boolean' },
    experiment: { type: 'string' },
    'cpu-backend': { type: 'string' },
  });
  if (o.prompt === undefined) throw new UsageError('missing --prompt TEXT');
  const sampling = {
    ...DEFAULT_SAMPLING,
    maxTokens: num('max-tokens', o['max-tokens'], { integer: true, min: 1 }) ?? DEFAULT_SAMPLING.maxTokens,
    temperature: num('temperature', o.temperature, { min: 0 }) ?? DEFAULT_SAMPLING.temperature,
    topP: num('top-p', o['top-p'], { min: 0, minExclusive: true, max: 1 }) ?? DEFAULT_SAMPLING.topP,
    topK: num('top-k', o['top-k'], { integer: true, min: 0 }) ?? DEFAULT_SAMPLING.topK,
    repetitionPenalty: num('repetition-penalty', o['repetition-penalty'], { min: 0, minExclusive: true }) ?? DEFAULT_SAMPLING.repetitionPenalty,
    stop: o.stop ?? [],
    seed: num('seed', o.seed, { integer: true }),
  };
  const exp = experiment(o.experiment);
  const backend = cpuBackend(o['cpu-backend']);
  const requested = { device: device(o.device), kvBits: kvBits(o['kv-bits']), scheme: scheme(o.scheme) };
  const dir = await openModelArg(o.model);
  const run = { ...requested, scheme: runScheme(requested.scheme, exp, dir), taps: false, ...(exp && { experiment: exp }) };
  const engine = await createEngine(dir, run, { cpuBackend: backend });
  process.stderr.write(`${deviceLine(engine.info)}\n`);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const input = o.chat ? { messages: [{ role: 'user' as const, content: o.prompt }] } : { prompt: o.prompt };
    const result = await engine.generate(input, sampling, (step) => process.stdout.write(step.text), abort.signal);
    process.stdout.write('\n');
    process.stderr.write(`finish: ${result.finishReason}; ${statsLine(result.stats)}; peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}\n`);
  } finally {
    process.off('SIGINT', onSigint);
    await engine.close();
  }
}
