// electron-builder.yml against the real tree, without the Electron binary: electron-builder's own
// schema validation, the packaged file list computed from the `files` globs, native ONNX Runtime
// files unpacked from the asar, and the embedded models shipped as extraResources.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import type { Configuration } from 'app-builder-lib';
import { packageRoot } from '../../server/paths.js';

const root = packageRoot();

function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

/** electron-builder's rule: a file is in when a positive glob matches it and no "!" glob does. */
function selected(files: string[], patterns: string[]): string[] {
  const pos = patterns.filter((p) => !p.startsWith('!'));
  const neg = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return files.filter((f) => pos.some((p) => minimatch(f, p, { dot: true })) && !neg.some((p) => minimatch(f, p, { dot: true })));
}

/** getConfig normalises `files` into FileSets ({ filter: [...] }); flatten back to globs. */
function globs(files: unknown): string[] {
  return ((files ?? []) as (string | { filter?: string | string[] })[]).flatMap((f) => (typeof f === 'string' ? [f] : ([] as string[]).concat(f.filter ?? [])));
}

async function loadConfig(): Promise<Configuration> {
  const config = await getConfig(root, path.join(root, 'electron-builder.yml'), null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

describe('electron-builder configuration', () => {
  it('passes electron-builder schema validation and targets every platform', async () => {
    const config = await loadConfig();
    const targets = (t: unknown) => (Array.isArray(t) ? t.map((x) => (typeof x === 'string' ? x : (x as { target: string }).target)) : []);
    expect(targets(config.linux?.target)).toEqual(['AppImage', 'deb']);
    expect(targets(config.win?.target)).toEqual(['nsis']);
    expect(targets(config.mac?.target)).toEqual(['dmg', 'zip']);
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(false);
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true, grantFileProtocolExtraPrivileges: false });
  });

  it("packages the compiled entry points and not sources, tests or source maps", async () => {
    const config = await loadConfig();
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const patterns = globs(config.files);
    // What the app needs at run time, as the build lays it out (tsc -b output paths).
    const needed = [pkg.main, 'dist/electron/preload.cjs', 'dist/server/core/engine-process.js', 'dist/renderer/index.html', 'dist/contract/index.js', 'package.json'];
    expect(selected(needed, patterns)).toEqual(needed);
    expect(pkg.main).toBe('dist/electron/main.js');
    const unwanted = ['dist/electron/main.js.map', 'dist/renderer/assets/index.js.map', 'server/server.ts', 'test/app/store.test.ts', 'dist/scripts/make-random-model.js', 'training/train.py', 'assets/models/bitlens-v2/model.safetensors'];
    expect(selected(unwanted, patterns)).toEqual([]);
    // Against the real build output where it exists.
    const dist = walk(path.join(root, 'dist')).map((f) => `dist/${f}`);
    const packaged = selected(dist, patterns);
    if (existsSync(path.join(root, 'dist', 'electron', 'main.js'))) {
      expect(packaged).toContain('dist/electron/main.js');
      expect(packaged).toContain('dist/electron/preload.cjs');
      expect(packaged).toContain('dist/server/core/engine-process.js');
    }
    expect(packaged.filter((f) => f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
    // The engine's native addon is packaged and unpacked from the asar, where addon.ts looks for it.
    const addon = 'native/build/Release/bitlens_native.node';
    expect(selected([addon, 'native/src/kernels.cpp', 'native/build/obj/x.o'], patterns)).toEqual([addon]);
    expect(globs(config.asarUnpack).some((p) => minimatch(addon, p, { dot: true }))).toBe(true);
    // Runtime modules are production dependencies (electron-builder packs only those).
    for (const dep of ['onnxruntime-node', 'zod', 'ws', '@huggingface/tokenizers', '@huggingface/jinja']) expect(pkg.dependencies[dep], dep).toBeDefined();
    expect(pkg.devDependencies.electron).toBeDefined();
  });

  it('unpacks every onnxruntime-node native file from the asar, for each platform', async () => {
    const config = await loadConfig();
    const unpack = globs(config.asarUnpack);
    const ortFiles = walk(path.join(root, 'node_modules', 'onnxruntime-node', 'bin')).map((f) => `node_modules/onnxruntime-node/bin/${f}`);
    const native = ortFiles.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f));
    expect(native.length).toBeGreaterThanOrEqual(4);
    expect(native.some((f) => f.includes('/linux/x64/') && f.endsWith('onnxruntime_binding.node'))).toBe(true);
    expect(native.some((f) => /\/linux\/x64\/libonnxruntime\.so/.test(f))).toBe(true);
    const matched = (f: string) => unpack.some((p) => minimatch(f, p, { dot: true }));
    expect(native.filter((f) => !matched(f))).toEqual([]);
    // ...and they are packaged at all (the per-platform excludes keep exactly that platform's).
    for (const [platform, others] of [['linux', ['win32', 'darwin']], ['win', ['linux', 'darwin']], ['mac', ['linux', 'win32']]] as const) {
      const patterns = ['**/*', ...globs((config[platform] as { files?: unknown }).files)];
      const kept = selected(native, patterns);
      expect(kept.length, platform).toBeGreaterThan(0);
      expect(kept.some((f) => others.some((o) => f.includes(`/napi-v6/${o}/`))), platform).toBe(false);
    }
  });

  it('ships the embedded model folders as extraResources/models', async () => {
    const config = await loadConfig();
    const extra = (config.extraResources as { from: string; to: string; filter: string[] }[])[0];
    extra.filter = globs([{ filter: extra.filter }]);
    expect(extra.to).toBe('models'); // electron/main.ts reads process.resourcesPath/models
    const modelsDir = path.join(root, extra.from);
    expect(existsSync(modelsDir)).toBe(true);
    const files = walk(modelsDir);
    const shipped = selected(files, extra.filter);
    const modelFolders = [...new Set(files.filter((f) => f.endsWith('/config.json')).map((f) => f.split('/')[0]))];
    for (const folder of modelFolders) {
      for (const required of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
        expect(shipped, `${folder}/${required}`).toContain(`${folder}/${required}`);
      }
    }
    // The filter itself keeps model files and drops hidden ones (checked on names, whatever is committed yet).
    expect(selected(['bitlens-v2/model.safetensors', 'bitlens-v2/config.json', 'bitlens-v2/.DS_Store', '.gitkeep'], extra.filter)).toEqual(['bitlens-v2/model.safetensors', 'bitlens-v2/config.json']);
  });
});
