// Writes a checkpoint in one of the foreign on-disk layouts BitLens imports (docs/import.md), from a
// BitLens model folder or from a random model of a given shape (made by make-random-model.ts in a
// temporary folder, deleted afterwards). For interoperability checks and benchmarks; not committed.
//   npx tsx scripts/make-checkpoint.ts --from DIR            --layout L --out PATH
//   npx tsx scripts/make-checkpoint.ts --shape 2b4t|small|tiny --layout L --out PATH [--seed N]
// Layouts: hf-packed (bitnet-b1.58-2B-4T), hf-bf16 (its bf16 master variant), hf-fp32-llama
// (1bitLLM), gguf-tq2_0, gguf-tq1_0, gguf-i2_s (bitnet.cpp, arch bitnet-b1.58), gguf-f16, gguf-f32.
// GGUF options: --arch bitnet|bitnet-b1.58 (default bitnet; bitnet-b1.58 for i2_s), --separate-scale.
// The GGUF files use llama.cpp's BitNet tensor and metadata names (llama.cpp loads TQ1_0/TQ2_0).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BITNET_ARCHS } from '../engine/common/formats/bitnet-gguf.js';
import { exportGguf, GGUF_WEIGHT_TYPES, type GgufWeightType } from '../engine/node/import/export-gguf.js';
import { HF_LAYOUTS, writeHfCheckpoint, type HfLayout } from '../engine/node/import/export-hf.js';
import { loadModelDir } from '../engine/node/model-dir.js';

const GGUF_LAYOUTS = GGUF_WEIGHT_TYPES.map((t) => `gguf-${t.toLowerCase()}`);
const LAYOUTS = [...HF_LAYOUTS, ...GGUF_LAYOUTS];

function usage(problem: string): never {
  console.error(`${problem}\nusage: npx tsx scripts/make-checkpoint.ts (--from DIR | --shape 2b4t|small|tiny [--seed N]) --layout ${LAYOUTS.join('|')} --out PATH [--arch ${BITNET_ARCHS.join('|')}] [--separate-scale]`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { from: { type: 'string' }, shape: { type: 'string' }, seed: { type: 'string' }, layout: { type: 'string' }, out: { type: 'string' }, arch: { type: 'string' }, 'separate-scale': { type: 'boolean' } },
      strict: true,
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  const layout = values.layout ?? '';
  if (!LAYOUTS.includes(layout)) usage(`unknown or missing --layout ${JSON.stringify(layout)}`);
  if (!values.out) usage('missing --out PATH');
  if (!!values.from === !!values.shape) usage('give exactly one of --from DIR and --shape');
  const arch = values.arch ?? (layout === 'gguf-i2_s' ? 'bitnet-b1.58' : 'bitnet');
  if (!(BITNET_ARCHS as readonly string[]).includes(arch)) usage(`--arch must be one of ${BITNET_ARCHS.join(', ')}`);

  let from = values.from!;
  let tmp: string | undefined;
  const started = Date.now();
  try {
    if (values.shape) {
      tmp = await mkdtemp(path.join(tmpdir(), 'bitlens-ckpt-'));
      from = path.join(tmp, 'model');
      const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'make-random-model.ts');
      execFileSync(process.execPath, ['--import', 'tsx', script, '--shape', values.shape, '--out', from, '--seed', values.seed ?? '0'], { stdio: 'inherit' });
    }
    let size: number;
    if ((HF_LAYOUTS as readonly string[]).includes(layout)) {
      size = await writeHfCheckpoint(from, values.out, layout as HfLayout);
    } else {
      const weightType = layout.slice('gguf-'.length).toUpperCase() as GgufWeightType;
      size = await exportGguf(await loadModelDir(from), values.out, { weightType, arch: arch as (typeof BITNET_ARCHS)[number], separateScale: values['separate-scale'] });
    }
    console.log(`wrote ${values.out} (${layout}): ${(size / 1e6).toFixed(1)} MB weights in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
