// Static facts about a loaded model for ModelInfo: bytes of the weights as stored (2-bit packed)
// versus fp16, and the zero fraction of every ternary projection.
import type { ProjectionStats } from '../common/api.js';
import { PROJECTIONS, type ModelWeights } from '../common/weights.js';

// Number of 2-bit fields equal to code 1 (weight 0) in each byte value.
const ZEROS_IN_BYTE = Uint8Array.from({ length: 256 }, (_, b) => [0, 2, 4, 6].filter((s) => ((b >> s) & 3) === 1).length);

export function projectionStats(w: ModelWeights): Record<string, ProjectionStats>[] {
  return w.layers.map((layer) => {
    const out: Record<string, ProjectionStats> = {};
    for (const p of PROJECTIONS) {
      const { packed, rows, cols, alpha } = layer[p];
      let zeros = 0;
      for (let i = 0; i < packed.length; i++) zeros += ZEROS_IN_BYTE[packed[i]];
      out[p] = { rows, cols, alpha, zeroFraction: zeros / (rows * cols) };
    }
    return out;
  });
}

/**
 * Weight bytes: `packed` counts the ternary projections at 2 bits plus their fp32 scale, embeddings
 * and LM head as stored (fp16 or fp32) and fp32 norms; `fp16` counts every parameter at 2 bytes.
 */
export function weightBytes(w: ModelWeights): { packed: number; fp16: number } {
  const c = w.config;
  let packed = 0;
  let params = 0;
  for (const layer of w.layers) {
    for (const p of PROJECTIONS) {
      packed += layer[p].packed.length + 4;
      params += layer[p].rows * layer[p].cols;
    }
    const norms = layer.inputNorm.length + layer.attnSubNorm.length + layer.postAttnNorm.length + layer.ffnSubNorm.length;
    packed += 4 * norms;
    params += norms;
  }
  const matrix = c.vocabSize * c.hiddenSize;
  const matrices = c.tieWordEmbeddings ? 1 : 2;
  const embedBytes = w.embedF16 ? 2 : 4;
  packed += matrices * matrix * embedBytes + 4 * w.norm.length;
  params += matrices * matrix + w.norm.length;
  return { packed, fp16: 2 * params };
}
