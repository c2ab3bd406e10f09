// Benchmark: how the browser host streams a generation at the engine's full rate.
//   npx tsx test/app/bench-stream.ts [--model-dir DIR] [--tokens N]
// Prints end-to-end tokens/s as the renderer's host client sees them, how many WebSocket event
// messages carried them (the host batches every 16 ms) and how many deliveries reached the UI
// (merged further to one per frame; 16 ms timer here, requestAnimationFrame in a browser).
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { byteLevelTokenizerJson } from '../../engine/common/byte-tokenizer.js';
import { randomModelWeights, tinyConfig } from '../../engine/common/random-model.js';
import { writeModelDir } from '../../engine/node/model-dir.js';
import { WebSocketHost, type WebSocketConstructor } from '../../renderer/host/websocket-host.js';
import type { EventPayload } from '../../contract/index.js';
import { startServer } from '../../server/server.js';

const { values } = parseArgs({ options: { 'model-dir': { type: 'string' }, tokens: { type: 'string', default: '400' } } });
const tmp = await mkdtemp(path.join(os.tmpdir(), 'bitlens-bench-stream-'));
try {
  const modelsDir = path.join(tmp, 'models');
  await mkdir(modelsDir);
  let modelDir = values['model-dir'];
  if (!modelDir) {
    modelDir = path.join(modelsDir, 'random-tiny');
    const config = tinyConfig({ vocabSize: 260, bosTokenId: 256, eosTokenIds: [257], maxPositionEmbeddings: 1024, name: 'random-tiny' });
    const tokenizerJson = byteLevelTokenizerJson([{ id: 256, content: '<s>' }, { id: 257, content: '</s>' }]);
    await writeModelDir(modelDir, { config, weights: randomModelWeights(config, 1), tokenizerJson, tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' } });
  }
  const server = await startServer({ port: 0, dataDir: path.join(tmp, 'data'), modelsDir: path.dirname(modelDir), rendererDir: tmp });
  await server.service.engine.ready();
  if (server.service.engine.status.state !== 'ready') throw new Error(`engine not ready: ${server.service.engine.status.error}`);
  let wsEvents = 0;
  const raw = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  raw.on('message', (d) => {
    if (String(d).includes('"generation.tokens"')) wsEvents++;
  });
  await new Promise((r) => raw.on('open', r));
  const host = new WebSocketHost(`ws://127.0.0.1:${server.port}/ws`, WebSocket as unknown as WebSocketConstructor);
  let deliveries = 0;
  let tokens = 0;
  host.on('generation.tokens', (p) => {
    deliveries++;
    tokens += p.tokens.length;
  });
  const done = new Promise<EventPayload<'generation.done'>>((r) => host.on('generation.done', r));
  const c = await host.request('conversations.create', { sampling: { maxTokens: Number(values.tokens), temperature: 0.8, seed: 1 } });
  const t0 = performance.now();
  await host.request('chat.send', { conversationId: c.id, text: 'Once upon a time' });
  const final = await done;
  const secs = (performance.now() - t0) / 1000;
  const s = final.message.stats!;
  console.log(`model ${s.modelName} (${s.scheme}, ${s.device}), taps on`);
  console.log(`tokens ${tokens} in ${secs.toFixed(2)} s: ${(tokens / secs).toFixed(0)} tok/s end to end (engine decode ${s.tokensPerSec.toFixed(0)} tok/s, TTFT ${s.timeToFirstTokenMs.toFixed(0)} ms)`);
  console.log(`WebSocket generation.tokens messages ${wsEvents} (${(tokens / wsEvents).toFixed(1)} tokens each); UI deliveries ${deliveries} (${(deliveries / secs).toFixed(0)}/s)`);
  host.close();
  raw.close();
  await server.close();
} finally {
  await rm(tmp, { recursive: true, force: true });
}
