import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../engine/common/byte-tokenizer.js';
import { ModelFormatError } from '../../engine/common/errors.js';
import { randomModelWeights, tinyConfig } from '../../engine/common/random-model.js';
import { weightsToSafetensors } from '../../engine/common/weights.js';
import { loadModelDir, writeModelDir, writeModelDirAtomic } from '../../engine/node/model-dir.js';

const config = tinyConfig({ vocabSize: 300, bosTokenId: 256, eosTokenIds: [257] });
const contents = () => ({
  config,
  weights: randomModelWeights(config, 5),
  tokenizerJson: byteLevelTokenizerJson([{ id: 256, content: '<s>' }, { id: 257, content: '</s>' }]),
  tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' },
});

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'bitlens-model-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh valid model folder, optionally broken by `edit`. */
async function modelDir(name: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, name);
  await writeModelDir(dir, contents());
  if (edit) await edit(dir);
  return dir;
}

describe('model folder', () => {
  it('writes and loads a model, bit-exactly', async () => {
    const c = contents();
    const dir = path.join(root, 'ok');
    await writeModelDir(dir, { ...c, golden: { logits: [1, 2] } });
    const m = await loadModelDir(dir);
    expect(m.config).toEqual(config);
    expect(m.tokenizerConfig).toEqual(c.tokenizerConfig);
    expect(m.tokenizerJson).toEqual(c.tokenizerJson);
    expect(m.golden).toEqual({ logits: [1, 2] });
    expect(weightsToSafetensors(m.weights)).toEqual(weightsToSafetensors(c.weights));
    expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('replaces an existing folder atomically and leaves nothing behind on failure', async () => {
    const dir = await modelDir('replace');
    await expect(writeModelDirAtomic(dir, async (tmp) => {
      await writeFile(path.join(tmp, 'config.json'), '{}');
      throw new Error('disk full');
    })).rejects.toThrow('disk full');
    expect((await loadModelDir(dir)).config).toEqual(config); // old model untouched
    expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
    await writeModelDir(dir, { ...contents(), tokenizerConfig: { bos_token: 'X' } });
    expect((await loadModelDir(dir)).tokenizerConfig).toEqual({ bos_token: 'X' });
  });

  const broken: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['missing tokenizer', (d) => rm(path.join(d, 'tokenizer.json')), /tokenizer\.json: file is missing/],
    ['tokenizer that is not a tokenizer', (d) => writeFile(path.join(d, 'tokenizer.json'), '{"a": 1}'), /tokenizer\.json: not a Hugging Face tokenizers file/],
    ['missing weights', (d) => rm(path.join(d, 'model.safetensors')), /model\.safetensors: file is missing/],
    ['config that is not JSON', (d) => writeFile(path.join(d, 'config.json'), '{"format": "bitlens",'), /config\.json: not valid JSON/],
    ['config with a wrong value', async (d) => {
      const j = JSON.parse(await readFile(path.join(d, 'config.json'), 'utf8'));
      await writeFile(path.join(d, 'config.json'), JSON.stringify({ ...j, scheme: 'int2' }));
    }, /config\.json: invalid config: scheme/],
    ['config whose shapes disagree with the weights', async (d) => {
      const j = JSON.parse(await readFile(path.join(d, 'config.json'), 'utf8'));
      await writeFile(path.join(d, 'config.json'), JSON.stringify({ ...j, intermediate_size: 96 }));
    }, /model\.safetensors: tensor 'model\.layers\.0\.mlp\.ffn_sub_norm\.weight': shape \[64\] does not match config\.json, expected \[96\]/],
    ['truncated weights', async (d) => {
      const f = path.join(d, 'model.safetensors');
      const b = await readFile(f);
      await writeFile(f, b.subarray(0, b.length - 100));
    }, /model\.safetensors: tensor 'model\.norm\.weight': data_offsets .* go beyond the data/],
  ];
  for (const [what, edit, re] of broken) {
    it(`refuses a folder with a ${what}, naming the file`, async () => {
      const dir = await modelDir(what.replace(/\W+/g, '-'), edit);
      const p = loadModelDir(dir);
      await expect(p).rejects.toThrow(ModelFormatError);
      await expect(loadModelDir(dir)).rejects.toThrow(re);
    });
  }

  it('refuses a folder that does not exist or is a file', async () => {
    await expect(loadModelDir(path.join(root, 'nope'))).rejects.toThrow(/nope: model folder does not exist/);
    const f = path.join(root, 'file');
    await writeFile(f, 'x');
    await expect(loadModelDir(f)).rejects.toThrow(/not a folder/);
  });

  it('scripts/make-random-model.ts writes a loadable folder and refuses bad options', async () => {
    const dir = path.join(root, 'script-tiny');
    const run = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/make-random-model.ts', ...args]);
    const { stdout } = await run('--shape', 'tiny', '--out', dir, '--seed', '4');
    expect(stdout).toMatch(/wrote .*script-tiny \(tiny, seed 4\)/);
    const m = await loadModelDir(dir);
    expect(m.config).toMatchObject({ hiddenSize: 64, intermediateSize: 160, vocabSize: 512, bosTokenId: 256 });
    expect(m.tokenizerConfig.chat_template).toContain('Assistant: ');
    await expect(run('--shape', 'huge', '--out', dir)).rejects.toThrow(/unknown or missing --shape "huge"/);
    await expect(run('--shape', 'tiny', '--out', dir, '--bogus')).rejects.toThrow(/bogus/);
  });
});
