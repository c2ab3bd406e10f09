// native/binding.gyp (the Windows node-gyp build) lists its sources by hand, while the POSIX build
// (scripts/build-native.mjs) finds them: every portable source must be in both, or the Windows
// addon fails to link. Per-ISA units (*_avx2.cc, *_avx512.cc, *_neon.cc) are POSIX-only on purpose.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../native/src');
const isaUnit = /_(avx2|avx512|neon)\.cc$/;

test('binding.gyp lists every portable native source', () => {
  const gyp = JSON.parse(readFileSync(path.join(src, '..', 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '')) as { targets: { sources: string[] }[] };
  const listed = [...gyp.targets[0].sources].sort();
  const portable = [
    ...readdirSync(src).filter((f) => f.endsWith('.cc') && !isaUnit.test(f)),
    ...readdirSync(path.join(src, 'vulkan')).filter((f) => f.endsWith('.cc')).map((f) => `vulkan/${f}`),
  ].map((f) => `src/${f}`);
  expect(listed).toEqual(portable.sort());
});
