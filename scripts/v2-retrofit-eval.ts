// The "what if v2" experiment (paper Table 4) on the embedded models: mean next-token loss on
// held-out text (JSON array of strings, e.g. pieces of the corpus' validation split) for
//   b1.58 twin as trained (b1.58), retrofit with W16A8 (sanity: ≈ as trained), retrofit W16A4
//   (scheme v2-a4 + experiment v2-retrofit-w16a4, Table 4's "rotation kept in full precision"),
//   QuaRot-style rotation fused into re-ternarized weights under v2-a4 (Table 4's first row), and
//   the natively trained v2-a4 model.
// Every token of every text (BOS + ids + EOS, cut to the context) is scored in one graph run per
// text with all-position logits (ORT CPU session, exact int8 kernels for the ternary matmuls).
//   npx tsx scripts/v2-retrofit-eval.ts --texts FILE.json [--b158 DIR] [--v2 DIR]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { Experiment } from '../engine/common/experiment.js';
import { rotatedWeights } from '../engine/common/reference.js';
import type { Scheme } from '../engine/common/scheme.js';
import { packTernary, ternarize } from '../engine/common/ternary.js';
import type { ModelWeights } from '../engine/common/weights.js';
import { EmbeddingTable } from '../engine/node/embedding.js';
import { compileGraph } from '../engine/node/graph/compile.js';
import { loadModelDir } from '../engine/node/model-dir.js';
import { TextCodec } from '../engine/node/tokenizer.js';

const { values: o } = parseArgs({ options: { texts: { type: 'string' }, b158: { type: 'string', default: 'assets/models/bitlens-b158' }, v2: { type: 'string', default: 'assets/models/bitlens-v2' } } });
if (!o.texts) throw new Error('--texts FILE.json (an array of strings) is required');
const texts = JSON.parse(readFileSync(o.texts, 'utf8')) as string[];

/** W_o / W_down replaced by ternarize(W Hᵀ) (absmean), to be run with a Hadamard scheme. */
function fusedRotation(w: ModelWeights): ModelWeights {
  return {
    ...w,
    layers: w.layers.map((l) => {
      const out = { ...l };
      for (const p of ['o', 'down'] as const) {
        const t = ternarize(rotatedWeights(l[p]));
        out[p] = { ...l[p], packed: packTernary(t.values, l[p].rows, l[p].cols), alpha: t.alpha };
      }
      return out;
    }),
  };
}

async function meanLoss(dir: string, scheme: Scheme, experiment?: Experiment, transform?: (w: ModelWeights) => ModelWeights) {
  const model = await loadModelDir(dir);
  const c = model.config;
  const weights = transform ? transform(model.weights) : model.weights;
  const graph = compileGraph(weights, { scheme, kvBits: 16, taps: false, logits: 'all', matmul: 'int8-exact', experiment });
  const session = await ort.InferenceSession.create(graph.model, { intraOpNumThreads: 2 });
  const codec = new TextCodec({ tokenizerJson: model.tokenizerJson, tokenizerConfig: model.tokenizerConfig, bosTokenId: c.bosTokenId, modelName: c.name ?? dir });
  const embed = new EmbeddingTable(model.weights, c.hiddenSize);
  const eos = c.eosTokenIds[0];
  let nll = 0;
  let n = 0;
  for (const text of texts) {
    const ids = [c.bosTokenId, ...codec.encodeText(text), eos].slice(0, c.maxPositionEmbeddings);
    const feeds: Record<string, ort.Tensor> = { [graph.inputsEmbeds]: new ort.Tensor('float32', embed.lookup(ids), [1, ids.length, c.hiddenSize]) };
    for (const s of graph.kv) feeds[s.past] = new ort.Tensor('float32', new Float32Array(graph.numKvHeads * s.lastDim), [1, graph.numKvHeads, 1, s.lastDim]);
    const logits = (await session.run(feeds))[graph.logits].data as Float32Array;
    const V = c.vocabSize;
    for (let t = 0; t + 1 < ids.length; t++) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
      nll += Math.log(sum) + max - logits[t * V + ids[t + 1]];
      n++;
    }
  }
  await session.release();
  return { loss: nll / n, ppl: Math.exp(nll / n), tokens: n };
}

const runs: [string, string, Scheme, Experiment?, ((w: ModelWeights) => ModelWeights)?][] = [
  ['b1.58 twin as trained (W1.58A8)', o.b158!, 'b1.58'],
  ['b1.58 twin, retrofit W16A8 at W_o/W_down (sanity)', o.b158!, 'b1.58', 'v2-retrofit-w16a4'],
  ['b1.58 twin, retrofit W16A4 (v2-retrofit-w16a4, INT4 everywhere)', o.b158!, 'v2-a4', 'v2-retrofit-w16a4'],
  ['b1.58 twin, rotation fused into re-ternarized W_o/W_down, v2-a4', o.b158!, 'v2-a4', undefined, fusedRotation],
  ['v2-a4 model as trained', o.v2!, 'v2-a4'],
];
console.log(`${texts.length} held-out texts`);
for (const [label, dir, scheme, exp, transform] of runs) {
  const t0 = performance.now();
  const r = await meanLoss(dir, scheme, exp, transform);
  console.log(`${label}: loss ${r.loss.toFixed(4)} nats/token, ppl ${r.ppl.toFixed(2)} (${r.tokens} tokens, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
