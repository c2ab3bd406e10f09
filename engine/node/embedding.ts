// The embedding lookup, done in JavaScript rather than in the graph: only T rows per step are
// needed, and the table (2B-4T: 328M values) would otherwise be one huge GPU buffer.
import { halfToFloat } from '../common/f16.js';
import type { ModelWeights } from '../common/weights.js';

export class EmbeddingTable {
  private readonly f16?: Uint16Array;
  private readonly f32?: Float32Array;

  constructor(
    w: ModelWeights,
    private readonly hidden: number,
  ) {
    // Own copies, so the engine does not keep the whole model file alive through a view.
    if (w.embedF16) this.f16 = w.embedF16.slice();
    else this.f32 = w.embed.slice();
  }

  /** [1, T, hidden] rows of `ids`, float32. */
  lookup(ids: number[]): Float32Array {
    const d = this.hidden;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, t) => {
      if (this.f32) out.set(this.f32.subarray(id * d, (id + 1) * d), t * d);
      else for (let i = 0; i < d; i++) out[t * d + i] = halfToFloat(this.f16![id * d + i]);
    });
    return out;
  }
}
