// Human-readable numbers for the CLI's stats lines.
import type { ModelInfo, StepStats } from '../engine/common/api.js';

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function deviceLine(info: ModelInfo): string {
  const line = `${info.name}: scheme ${info.run.scheme}, KV ${info.run.kvBits} bits, device ${info.device}${info.deviceNote ? ` (${info.deviceNote})` : ''}`;
  return info.experimentNote ? `${line}\n${info.experimentNote}` : line;
}

export function statsLine(s: StepStats): string {
  return [
    `prompt ${s.promptTokens} tokens`,
    `generated ${s.generatedTokens}`,
    `TTFT ${s.timeToFirstTokenMs.toFixed(1)} ms`,
    `prefill ${s.prefillTokensPerSec.toFixed(1)} tok/s`,
    `decode ${s.decodeTokensPerSec.toFixed(1)} tok/s`,
    `KV cache ${mib(s.kvCacheBytes)} (fp16 ${mib(s.kvCacheBytesFp16)})`,
    `RSS ${mib(s.rssBytes)}`,
  ].join(', ');
}
