// The KV cache between steps: ORT tensors fed back as the next step's `past.*` inputs. On a GPU
// backend they stay GPU buffers ('gpu-buffer' outputs); they are never read back to JavaScript
// (reading a gpu-buffer tensor aborts the process, ../shared/device/NOTES.md).
import * as ort from 'onnxruntime-node';
import type { KvBits } from '../common/api.js';
import type { ModelConfig } from '../common/config.js';
import type { KvTensorSpec } from './graph/compile.js';

export class KvCache {
  private tensors = new Map<string, ort.Tensor>();
  /** Tokens in the cache. */
  length = 0;

  constructor(
    private readonly specs: KvTensorSpec[],
    private readonly numKvHeads: number,
  ) {
    this.reset();
  }

  /** Empties the cache: only the graph's masked dummy slot (zeros, in host memory) remains. */
  reset(): void {
    this.disposeAll();
    for (const s of this.specs) {
      const dims = [1, this.numKvHeads, 1, s.lastDim];
      const n = this.numKvHeads * s.lastDim;
      this.tensors.set(s.past, emptySlot(s.type, n, dims));
    }
    this.length = 0;
  }

  feeds(): Record<string, ort.Tensor> {
    return Object.fromEntries(this.tensors);
  }

  /** Takes the step's `present.*` outputs as the new cache and frees the old GPU buffers. */
  update(outputs: ort.InferenceSession.OnnxValueMapType, added: number): void {
    const next = new Map<string, ort.Tensor>();
    for (const s of this.specs) next.set(s.past, outputs[s.present] as ort.Tensor);
    this.disposeAll();
    this.tensors = next;
    this.length += added;
  }

  private disposeAll(): void {
    for (const t of this.tensors.values()) if (t.location === 'gpu-buffer') t.dispose();
    this.tensors.clear();
  }

  dispose(): void {
    this.disposeAll();
  }
}

/** The dummy slot: zeros (codes q + 128 = 128). */
function emptySlot(type: KvTensorSpec['type'], n: number, dims: number[]): ort.Tensor {
  if (type === 'uint8') return new ort.Tensor('uint8', new Uint8Array(n).fill(128), dims);
  return new ort.Tensor('float32', new Float32Array(n), dims);
}

/**
 * KV cache bytes for `tokens` tokens at `bits` (what a packed store takes: codes at `bits` per value
 * plus one fp16 scale per token and KV head; the first token at 8 bits), and the fp16 size.
 */
export function kvCacheBytes(c: ModelConfig, bits: KvBits, tokens: number): { bytes: number; fp16: number } {
  const vectors = 2 * c.numLayers * c.numKvHeads; // K and V, per token
  const fp16 = vectors * c.headDim * 2 * tokens;
  if (bits === 16) return { bytes: fp16, fp16 };
  const perToken = (b: number) => vectors * ((c.headDim * b) / 8 + 2);
  const bytes = tokens === 0 ? 0 : perToken(8) + perToken(bits) * (tokens - 1);
  return { bytes: Math.ceil(bytes), fp16 };
}
