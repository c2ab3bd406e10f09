// Writes a random-weight model folder in the real BitLens format, for benchmarks (not committed):
//   npx tsx scripts/make-random-model.ts --shape 2b4t|small|tiny --out DIR [--seed N] [--tokenizer-from DIR]
// 2b4t has the exact shape of bitnet-b1.58-2B-4T (~1.2 GB). Tensors are generated and written in
// chunks, so memory stays at a few MB whatever the size. Without --tokenizer-from the folder gets a
// minimal byte-level tokenizer (one token per byte, no merges): fine for speed, not for real text.
import { copyFile, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { byteLevelTokenizerJson } from '../engine/common/byte-tokenizer.js';
import { configToJson, type ModelConfig } from '../engine/common/config.js';
import { randomTensorChunks } from '../engine/common/random-model.js';
import { safetensorsHeader } from '../engine/common/safetensors.js';
import { modelTensorSpecs } from '../engine/common/weights.js';
import { MODEL_FILES, writeModelDirAtomic } from '../engine/node/model-dir.js';

const common = { activation: 'relu2glu', rmsNormEps: 1e-5, tieWordEmbeddings: true, subln: true, scheme: 'b1.58' } as const;

const SHAPES: Record<string, ModelConfig> = {
  '2b4t': {
    ...common, name: 'random-2b4t', description: 'Random weights with the shape of bitnet-b1.58-2B-4T (benchmarks only)',
    vocabSize: 128256, hiddenSize: 2560, numLayers: 30, numHeads: 20, numKvHeads: 5, headDim: 128, intermediateSize: 6912,
    ropeTheta: 500000, maxPositionEmbeddings: 4096, bosTokenId: 128000, eosTokenIds: [128001, 128009],
  },
  small: {
    ...common, name: 'random-small', description: 'Random weights, small shape (benchmarks only)',
    vocabSize: 32768, hiddenSize: 768, numLayers: 6, numHeads: 12, numKvHeads: 4, headDim: 64, intermediateSize: 2048,
    ropeTheta: 10000, maxPositionEmbeddings: 2048, bosTokenId: 256, eosTokenIds: [257, 258],
  },
  tiny: {
    ...common, name: 'random-tiny', description: 'Random weights, tiny shape (benchmarks only)',
    vocabSize: 512, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 160,
    ropeTheta: 10000, maxPositionEmbeddings: 512, bosTokenId: 256, eosTokenIds: [257, 258],
  },
};

// The 2B-4T chat format (../shared/spec/bitnet.md), as a Jinja template.
const CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}System: {% elif m['role'] == 'user' %}User: {% else %}Assistant: {% endif %}" +
  "{{ m['content'] }}<|eot_id|>{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}\nAssistant: {% endif %}";

function usage(problem: string): never {
  console.error(`${problem}\nusage: npx tsx scripts/make-random-model.ts --shape ${Object.keys(SHAPES).join('|')} --out DIR [--seed N] [--tokenizer-from DIR]`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { shape: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, 'tokenizer-from': { type: 'string' } }, strict: true }));
  } catch (e) {
    usage((e as Error).message);
  }
  const config = SHAPES[values.shape ?? ''];
  if (!config) usage(`unknown or missing --shape ${JSON.stringify(values.shape ?? '')}`);
  if (!values.out) usage('missing --out DIR');
  const seed = Number(values.seed ?? 0);
  if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer, got ${values.seed}`);
  const from = values['tokenizer-from'];
  if (from && !(await stat(path.join(from, MODEL_FILES.tokenizer)).catch(() => null))) usage(`--tokenizer-from: ${path.join(from, MODEL_FILES.tokenizer)} not found`);

  const specs = modelTensorSpecs(config);
  const started = Date.now();
  await writeModelDirAtomic(values.out, async (tmp) => {
    await writeFile(path.join(tmp, MODEL_FILES.config), `${JSON.stringify(configToJson(config), null, 2)}\n`);
    if (from) {
      await copyFile(path.join(from, MODEL_FILES.tokenizer), path.join(tmp, MODEL_FILES.tokenizer));
      const tc = path.join(from, MODEL_FILES.tokenizerConfig);
      if (await stat(tc).catch(() => null)) await copyFile(tc, path.join(tmp, MODEL_FILES.tokenizerConfig));
      else await writeFile(path.join(tmp, MODEL_FILES.tokenizerConfig), '{}\n');
    } else {
      const [eos, eot] = [config.eosTokenIds[0], config.eosTokenIds[1]];
      const specials = [
        { id: config.bosTokenId, content: '<|begin_of_text|>' },
        { id: eos, content: '<|end_of_text|>' },
        { id: eot, content: '<|eot_id|>' },
      ];
      await writeFile(path.join(tmp, MODEL_FILES.tokenizer), JSON.stringify(byteLevelTokenizerJson(specials)));
      const tokenizerConfig = { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', chat_template: CHAT_TEMPLATE, note: 'byte-level stand-in tokenizer for benchmarks' };
      await writeFile(path.join(tmp, MODEL_FILES.tokenizerConfig), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
    }
    const fh = await open(path.join(tmp, MODEL_FILES.weights), 'w');
    try {
      await fh.write(safetensorsHeader(specs));
      for (const spec of specs) for (const chunk of randomTensorChunks(config, spec, seed)) await fh.write(chunk);
    } finally {
      await fh.close();
    }
  });
  const size = (await stat(path.join(values.out, MODEL_FILES.weights))).size;
  console.log(`wrote ${values.out} (${values.shape}, seed ${seed}): model.safetensors ${(size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
