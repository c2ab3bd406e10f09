// Option parsing shared by the subcommands: node:util parseArgs (unknown options are errors) plus
// value checks that name the option and the accepted values.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEVICES, KV_BITS, type Device, type KvBits } from '../engine/common/api.js';
import { EXPERIMENTS, type Experiment } from '../engine/common/experiment.js';
import { SCHEMES, type Scheme } from '../engine/common/scheme.js';
import { CPU_BACKENDS, type CpuBackend } from '../engine/node/engine.js';

/** A problem with the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function oneOf<T extends string | number>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const v = (typeof allowed[0] === 'number' ? Number(value) : value) as T;
  if (!allowed.includes(v)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return v;
}

export function num(name: string, value: string | undefined, check: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  const bad =
    value.trim() === '' ||
    !Number.isFinite(v) ||
    (check.integer && !Number.isInteger(v)) ||
    (check.min !== undefined && (check.minExclusive ? v <= check.min : v < check.min)) ||
    (check.max !== undefined && v > check.max);
  if (bad) {
    const range = [check.min !== undefined ? `${check.minExclusive ? '>' : '>='} ${check.min}` : '', check.max !== undefined ? `<= ${check.max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be ${check.integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`);
  }
  return v;
}

export const scheme = (v: string | undefined): Scheme | undefined => oneOf('scheme', v, SCHEMES);
export const experiment = (v: string | undefined): Experiment | undefined => oneOf('experiment', v, EXPERIMENTS);

/**
 * --scheme, else the scheme an experiment is defined with (v2-retrofit-w16a4: v2-a4's INT4 at all
 * four sites, paper Table 4), else the model's own.
 */
export function runScheme(requested: Scheme | undefined, exp: Experiment | undefined, dir: string): Scheme {
  return requested ?? (exp === 'v2-retrofit-w16a4' ? 'v2-a4' : modelScheme(dir));
}
export const device = (v: string | undefined): Device => oneOf('device', v, DEVICES) ?? 'auto';
export const cpuBackend = (v: string | undefined): CpuBackend | undefined => oneOf('cpu-backend', v, CPU_BACKENDS);
export const kvBits = (v: string | undefined): KvBits => oneOf('kv-bits', v, KV_BITS) ?? 16;

/** The package root (where package.json is), from this file in cli/ or dist/cli/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the BitLens package root');
    dir = up;
  }
  return dir;
}

export const DEFAULT_MODEL = 'assets/models/bitlens-v2';

/** --model, or the embedded default model (with a clear message while it does not exist). */
export function modelDir(value: string | undefined): string {
  if (value !== undefined) return value;
  const dir = path.join(packageRoot(), DEFAULT_MODEL);
  if (!existsSync(path.join(dir, 'config.json'))) {
    throw new UsageError(`no --model given and the embedded default model ${DEFAULT_MODEL} is not there yet (it is trained separately); pass --model DIR`);
  }
  return dir;
}

/** The scheme a model folder was trained for (config.json), the default run scheme. */
export function modelScheme(dir: string): Scheme {
  try {
    const s = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).scheme;
    if ((SCHEMES as readonly string[]).includes(s)) return s;
  } catch {
    // createEngine reports the broken or missing config.json with its file name.
  }
  return 'b1.58';
}
