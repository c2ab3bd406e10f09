// Execution providers: which ones this onnxruntime-node binary has, which one `auto` picks, and a
// probe that tries a GPU provider in a child process first, because a failed GPU session creation
// can leave ONNX Runtime unable to create another session, or abort the process
// (../shared/device/NOTES.md). The probe's outcome is cached per process.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { Device } from '../common/api.js';
import { GraphBuilder, DT } from './graph/onnx-builder.js';

export type Backend = Exclude<Device, 'auto'>;
export const GPU_BACKENDS = ['cuda', 'webgpu', 'dml', 'coreml'] as const satisfies readonly Backend[];

/** Backends this binary ships with (cpu always); `cuda` only when bundled. */
export function bundledBackends(): Backend[] {
  const listed = ort.listSupportedBackends?.() ?? [];
  const names = listed.filter((b) => b.bundled).map((b) => b.name);
  return ['cpu', ...GPU_BACKENDS.filter((b) => names.includes(b))];
}

export interface DeviceChoice {
  device: Backend;
  /** Why the device differs from the request (or which one `auto` picked). */
  note?: string;
}

const probeCache = new Map<Backend, Promise<string | null>>();

/** A tiny graph with the op the engine depends on (2-bit MatMulNBits). */
function probeModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', DT.FLOAT, [1, 16]);
  const y = g.node(
    'MatMulNBits',
    [x, g.initializer('B', DT.UINT8, [4, 1, 4], new Uint8Array(16).fill(0x66)), g.f32('s', [4], [1, 1, 1, 1]), g.initializer('z', DT.UINT8, [4], new Uint8Array(4).fill(0x55))],
    { K: 16, N: 4, bits: 2, block_size: 16 },
    undefined,
    'com.microsoft',
  );
  g.output(y, 'y', DT.FLOAT, [1, 4]);
  return g.toBytes('probe');
}

// Runs in a plain Node child (ELECTRON_RUN_AS_NODE for Electron hosts): create a session on the
// provider, run it once, exit 0; any failure prints its message and exits 1.
const PROBE_SCRIPT = `
const [ortPath, ep] = process.argv.slice(1);
const ort = require(ortPath);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  try {
    const s = await ort.InferenceSession.create(new Uint8Array(Buffer.concat(chunks)), { executionProviders: [ep] });
    const r = await s.run({ x: new ort.Tensor('float32', new Float32Array(16).fill(1), [1, 16]) });
    const y = r.y.data;
    if (y.length !== 4 || y[0] !== 8) throw new Error('2-bit MatMulNBits returned ' + Array.from(y).join(','));
    process.exit(0);
  } catch (e) { process.stderr.write(String(e && e.message || e)); process.exit(1); }
});`;

/** The last line of an ORT error without its source location and failed-check prefix. */
function shortReason(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  const i = line.lastIndexOf(' was false. ');
  return (i >= 0 ? line.slice(i + 12) : line).slice(0, 300);
}

/** null when `ep` can create and run a session here, else the reason it cannot. */
export function probeBackend(ep: Backend): Promise<string | null> {
  if (ep === 'cpu') return Promise.resolve(null);
  let p = probeCache.get(ep);
  if (!p) {
    p = new Promise<string | null>((resolve) => {
      const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
      const child = spawn(process.execPath, ['-e', PROBE_SCRIPT, ortPath, ep], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stderr.on('data', (d) => (err += String(d)));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve(`probe process failed: ${e.message}`);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(null);
        else resolve(shortReason(err) || `probe exited with ${signal ?? `code ${code}`}`);
      });
      child.stdin.end(probeModel());
    });
    probeCache.set(ep, p);
  }
  return p;
}

/** Resolves a requested device to a backend that works here, falling back to the CPU with a reason. */
export async function chooseDevice(requested: Device): Promise<DeviceChoice> {
  const available = bundledBackends();
  if (requested === 'cpu') return { device: 'cpu' };
  if (requested === 'auto') {
    const reasons: string[] = [];
    for (const ep of GPU_BACKENDS) {
      if (!available.includes(ep)) continue;
      const why = await probeBackend(ep);
      if (why === null) return { device: ep, note: `auto picked ${ep}` };
      reasons.push(`${ep}: ${why}`);
    }
    return { device: 'cpu', note: `auto picked cpu${reasons.length ? ` (${reasons.join('; ')})` : ' (no GPU execution provider in this onnxruntime-node build)'}` };
  }
  const listed = (ort.listSupportedBackends?.() ?? []).map((b) => b.name);
  if (!listed.includes(requested)) {
    return { device: 'cpu', note: `${requested} is not available in this onnxruntime-node build (has: ${available.join(', ')}); using cpu` };
  }
  const why = await probeBackend(requested);
  if (why !== null) return { device: 'cpu', note: `${requested} could not start (${why}); using cpu` };
  return { device: requested };
}
