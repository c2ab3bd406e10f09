// Builds the BitLens native CPU addon (native/) with the machine's C++ compiler; run by `npm install`
// (package.json "install") and `npm run build:native`. It never fails the install: when the compiler
// or the Node-API headers are missing it prints why, and the engine reports the addon as
// unavailable (engine/node/native/). Incremental: only sources newer than their object rebuild.
//
// POSIX (Linux, macOS): the compiler is called directly (CXX, else c++), one translation unit per
// instruction set so that the AVX2 / AVX-512 / NEON kernels are compiled with their flags while the
// rest stays baseline; the addon picks a path at run time from the CPU's features, so one build runs
// on every CPU of its architecture. Windows: node-gyp with native/binding.gyp (portable kernels).
// Node-API (not V8's C++ API) keeps the binary ABI-stable: the same build loads in Node and Electron.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'native', 'src');
// BITLENS_NATIVE_BUILD_DIR: build elsewhere (side-by-side comparisons; load it with BITLENS_NATIVE_ADDON).
const out = path.resolve(root, process.env.BITLENS_NATIVE_BUILD_DIR ?? path.join('native', 'build'));
const target = path.join(out, 'Release', 'bitlens_native.node');

function skip(why) {
  console.warn(`bitlens: native CPU addon not built: ${why}\nbitlens: the engine still works (ONNX Runtime CPU path); run "npm run build:native" after fixing this.`);
  process.exit(0);
}

function nodeApiInclude() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(path.join(d, 'node_api.h')));
}

function compiler() {
  for (const cxx of [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean)) {
    const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return cxx;
  }
  return undefined;
}

function buildWindows() {
  const r = spawnSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no-install', 'node-gyp', 'rebuild', '--directory', 'native'], { cwd: root, stdio: 'inherit', shell: true });
  if (r.status !== 0) skip('node-gyp failed (needs Visual Studio Build Tools with the C++ workload)');
}

function main() {
  if (process.platform === 'win32') return buildWindows();
  let addonApi;
  try {
    addonApi = createRequire(import.meta.url)('node-addon-api').include_dir;
  } catch {
    skip('the node-addon-api package is not installed');
  }
  const nodeInc = nodeApiInclude();
  if (!nodeInc) skip(`Node-API headers (node_api.h) not found next to ${process.execPath}; set npm_config_nodedir to a Node source or headers folder`);
  const cxx = compiler();
  if (!cxx) skip('no C++ compiler found (set CXX, or install g++ / clang++)');

  const arch = process.arch;
  // Instruction-set translation units, tried in order; one that does not compile (old compiler,
  // untested target) is left out with a warning and the addon falls back to the next path.
  // A unit is every source named *_<isa>.cc (kernels_avx2.cc, lm_head_avx2.cc, ...), all or none.
  const isaUnits = [];
  if (arch === 'x64') {
    isaUnits.push({ suffix: '_avx2.cc', define: '-DBITLENS_HAVE_X86_KERNELS', flags: ['-mavx2', '-mfma', '-mf16c'] });
    isaUnits.push({ suffix: '_avx512.cc', define: '-DBITLENS_HAVE_AVX512_KERNELS', flags: ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512vnni', '-mavx2', '-mfma', '-mf16c'], needs: '_avx2.cc' });
  } else if (arch === 'arm64') {
    isaUnits.push({ suffix: '_neon.cc', define: '-DBITLENS_HAVE_NEON_KERNELS', flags: [] });
  }
  const isaSuffixes = ['_avx2.cc', '_avx512.cc', '_neon.cc'];
  const base = [
    '-std=c++17', '-O3', '-fPIC', '-fvisibility=hidden', '-pthread',
    // Exactness: the quantizers must round like engine/common (no fused multiply-add, no fast-math).
    '-ffp-contract=off',
    '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-maybe-uninitialized' /* GCC 12 false positives in avx512fintrin.h */,
    // C++ exceptions (std::invalid_argument, std::bad_alloc) become JavaScript errors, never a crash.
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_CPP_EXCEPTIONS_ALL', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    `-I${addonApi.replace(/^"|"$/g, '')}`, `-I${nodeInc}`,
  ];
  // The Vulkan backend (native/src/vulkan/): compiled everywhere; its code is empty where
  // <vulkan/vulkan.h> is missing (the addon then reports Vulkan as not built in).
  const vulkanDir = path.join(src, 'vulkan');
  const vulkanSources = existsSync(vulkanDir) ? readdirSync(vulkanDir).filter((f) => f.endsWith('.cc')).sort().map((f) => `vulkan/${f}`) : [];
  const headerFiles = [...readdirSync(src).filter((f) => f.endsWith('.h')), ...(existsSync(vulkanDir) ? readdirSync(vulkanDir).filter((f) => f.endsWith('.h')).map((f) => `vulkan/${f}`) : [])];
  const headers = headerFiles.map((f) => statSync(path.join(src, f)).mtimeMs);
  const newestInput = Math.max(0, ...headers, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  mkdirSync(path.join(out, 'obj', 'vulkan'), { recursive: true });
  mkdirSync(path.dirname(target), { recursive: true });
  let rebuilt = 0;
  const compile = (f, flags) => {
    const obj = path.join(out, 'obj', f.replace(/\.cc$/, '.o'));
    const stamp = `${obj}.flags`;
    const cmd = [...flags, '-c', path.join(src, f), '-o', obj];
    const fresh = existsSync(obj) && existsSync(stamp) && readFileSync(stamp, 'utf8') === cmd.join(' ') &&
      statSync(obj).mtimeMs > Math.max(statSync(path.join(src, f)).mtimeMs, newestInput);
    if (fresh) return obj;
    console.log(`bitlens: compiling native/src/${f}`);
    execFileSync(cxx, cmd, { stdio: 'inherit' });
    writeFileSync(stamp, cmd.join(' '));
    rebuilt++;
    return obj;
  };
  const objects = [];
  const defines = [];
  const built = new Set();
  for (const u of isaUnits) {
    if (u.needs && !built.has(u.needs)) continue;
    const files = readdirSync(src).filter((f) => f.endsWith(u.suffix)).sort();
    try {
      const objs = files.map((f) => compile(f, [...base, ...u.flags]));
      objects.push(...objs);
      defines.push(u.define);
      built.add(u.suffix);
    } catch {
      console.warn(`bitlens: ${files.join(', ')} did not compile with ${cxx}; building without them (slower kernels)`);
    }
  }
  const common = [...readdirSync(src).filter((f) => f.endsWith('.cc') && !isaSuffixes.some((x) => f.endsWith(x))), ...vulkanSources];
  for (const f of common) {
    try {
      objects.push(compile(f, [...base, ...defines]));
    } catch {
      skip(`${cxx} failed on native/src/${f}`);
    }
  }
  if (!rebuilt && existsSync(target) && objects.every((o) => statSync(o).mtimeMs <= statSync(target).mtimeMs)) {
    console.log('bitlens: native addon up to date');
    return;
  }
  const link = ['-shared', '-pthread', '-o', target, ...objects];
  if (process.platform === 'linux') link.push('-ldl'); // the Vulkan loader is opened with dlopen (glibc < 2.34 keeps it in libdl)
  if (process.platform === 'darwin') link.push('-undefined', 'dynamic_lookup');
  try {
    execFileSync(cxx, link, { stdio: 'inherit' });
  } catch {
    skip(`${cxx} could not link ${path.relative(root, target)}`);
  }
  console.log(`bitlens: built ${path.relative(root, target)} (${arch}; kernels: portable${[...built].map((x) => `, ${x.slice(1, -3)}`).join('')})`);
}

try {
  main();
} catch (e) {
  skip(e instanceof Error ? e.message : String(e));
}
