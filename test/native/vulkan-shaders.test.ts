// The committed SPIR-V (native/src/vulkan/spirv.h) is what native/shaders/*.comp compile to: the
// addon embeds the header, so a shader edit without `node scripts/build-shaders.mjs` would ship the
// old kernels. Needs glslc (Debian package glslc; CI installs it): required in CI, skipped elsewhere.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const hasGlslc = spawnSync('glslc', ['--version']).status === 0;

(hasGlslc || process.env.CI === 'true' ? it : it.skip)('native/src/vulkan/spirv.h matches native/shaders', () => {
  const r = spawnSync(process.execPath, ['scripts/build-shaders.mjs', '--check'], { encoding: 'utf8' });
  expect(r.stderr + r.stdout).toContain('matches');
  expect(r.status).toBe(0);
});
