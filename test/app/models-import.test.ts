// models.add with a Hugging Face BitNet folder: imported into <dataDir>/imported, added as the
// imported BitLens folder (same weights as the original), remembered across restarts, reporting
// its progress (models.importProgress through the app service); a malformed folder gets the
// importer's error (file + reason) as invalid_model.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHfCheckpoint } from '../../engine/node/import/export-hf.js';
import { loadModelDir } from '../../engine/node/model-dir.js';
import { parseEvent, type EventPayload } from '../../contract/index.js';
import { ModelManager } from '../../server/core/models.js';
import { childProcessEngineFactory } from '../../server/core/process-engine.js';
import { AppService } from '../../server/core/service.js';
import { exactWeights, smallConfig, writeOriginal } from '../engine/import/fixtures.js';

describe('models.add with checkpoints BitLens did not write', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bitlens-models-import-'));
    await writeOriginal(path.join(root, 'orig'), exactWeights(smallConfig({ name: 'hf-fixture' }), 3));
    await writeHfCheckpoint(path.join(root, 'orig'), path.join(root, 'hf'), 'hf-packed');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('imports a Hugging Face folder into the data dir and adds the imported model', async () => {
    const dataDir = path.join(root, 'data');
    const problems: unknown[] = [];
    const models = await ModelManager.open({ dataDir, report: (p) => problems.push(p) });
    const progress: number[] = [];
    const entry = await models.add(path.join(root, 'hf'), (fraction) => progress.push(fraction));
    expect(progress.length).toBeGreaterThan(1);
    for (const [i, f] of progress.entries()) {
      expect(f).toBeGreaterThanOrEqual(i === 0 ? 0 : progress[i - 1]);
      expect(f).toBeLessThanOrEqual(1);
    }
    expect(progress.at(-1)).toBe(1);
    expect(entry.dir.startsWith(path.join(dataDir, 'imported') + path.sep)).toBe(true);
    expect(entry.trainedScheme).toBe('b1.58');
    const [orig, imported] = await Promise.all([loadModelDir(path.join(root, 'orig')), loadModelDir(entry.dir)]);
    expect(imported.weights.layers[0].o.packed).toEqual(orig.weights.layers[0].o.packed);
    // Adding again reuses the cached import; a restart remembers it.
    expect((await models.add(path.join(root, 'hf'))).id).toBe(entry.id);
    expect(await readdir(path.join(dataDir, 'imported'))).toHaveLength(1);
    const reopened = await ModelManager.open({ dataDir, report: (p) => problems.push(p) });
    expect(reopened.get(entry.id).dir).toBe(entry.dir);
    expect(problems).toEqual([]);
  });

  it('the app service sends the import progress to the UI as models.importProgress events', async () => {
    const events: { name: string; payload: unknown }[] = [];
    const service = await AppService.create({
      dataDir: path.join(root, 'data-service'),
      engineFactory: childProcessEngineFactory({ threads: 1 }), // not started: no model is loaded
      emit: (name, payload) => events.push({ name, payload: parseEvent(name, payload) }),
    });
    try {
      const source = path.join(root, 'hf');
      await service.handle('models.add', { folder: source });
      const progress = events.filter((e) => e.name === 'models.importProgress').map((e) => e.payload as EventPayload<'models.importProgress'>);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.every((p) => p.source === source)).toBe(true);
      expect(progress.at(-1)?.fraction).toBe(1);
    } finally {
      await service.close();
    }
  });

  it('refuses a malformed Hugging Face folder with the importer message', async () => {
    const bad = path.join(root, 'hf-bad');
    await writeHfCheckpoint(path.join(root, 'orig'), bad, 'hf-packed');
    await writeFile(path.join(bad, 'model.safetensors'), 'not a safetensors file');
    const models = await ModelManager.open({ dataDir: path.join(root, 'data2'), report: () => {} });
    await expect(models.add(bad)).rejects.toMatchObject({ code: 'invalid_model', message: expect.stringMatching(/hf-bad.*model\.safetensors/) });
    expect(models.list()).toEqual([]);
  });
});
