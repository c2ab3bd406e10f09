// Cross-check: the trainer's independent fp32 reference (training/export.py, PyTorch) must give the
// same logits as engine/common/reference.ts on the same model folders, for every scheme. Needs a
// python3 with torch (CI installs Debian's python3-torch).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { byteLevelTokenizerJson } from '../../../engine/common/byte-tokenizer.js';
import { randomModelWeights, tinyConfig } from '../../../engine/common/random-model.js';
import { ReferenceModel } from '../../../engine/common/reference.js';
import { SCHEMES } from '../../../engine/common/scheme.js';
import { writeModelDir } from '../../../engine/node/model-dir.js';

function pythonWithTorch(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const python = pythonWithTorch();
const PY = `
import json, sys
from training.export import ReferenceModel
ids = json.loads(sys.argv[1])
print(json.dumps({d: [float(x) for x in ReferenceModel(d).logits(ids)[-1]] for d in sys.argv[2:]}))
`;

describe.skipIf(!python)('trainer reference (PyTorch) agrees with the TypeScript reference', () => {
  let root = '';
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('for every scheme and both activations (KV 16)', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bitlens-xcheck-'));
    const ids = [256, 17, 5, 42, 9, 33, 7, 7, 60];
    const expected: Record<string, Float64Array> = {};
    for (const scheme of SCHEMES) {
      for (const activation of ['relu2glu', 'swiglu'] as const) {
        const c = tinyConfig({ scheme, activation, vocabSize: 300, bosTokenId: 256, eosTokenIds: [257] });
        const weights = randomModelWeights(c, 5);
        const dir = path.join(root, `${scheme}-${activation}`);
        await writeModelDir(dir, { config: c, weights, tokenizerJson: byteLevelTokenizerJson([{ id: 256, content: '<s>' }, { id: 257, content: '</s>' }]), tokenizerConfig: {} });
        expected[dir] = new ReferenceModel(weights, { scheme, kvBits: 16 }).forward(ids);
      }
    }
    const out = execFileSync(python!, ['-c', PY, JSON.stringify(ids), ...Object.keys(expected)], {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      encoding: 'utf8',
    });
    const got = JSON.parse(out) as Record<string, number[]>;
    for (const [dir, ts] of Object.entries(expected)) {
      let d = 0;
      ts.forEach((v, i) => (d = Math.max(d, Math.abs(v - got[dir][i]))));
      // fp32 (PyTorch) vs float64, logits of std ~2; a flipped quantization rounding would show as >1e-3.
      expect(d, path.basename(dir)).toBeLessThan(1e-4);
    }
  });
});
