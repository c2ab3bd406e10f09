// The app service with the real engine in a child process: chat, stop, regenerate, edit, taps,
// export, model manager, and restart after the engine process is killed with SIGKILL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { AppService } from '../../server/core/service.js';
import { childProcessEngineFactory } from '../../server/core/process-engine.js';
import type { EventName, EventPayload } from '../../contract/index.js';
import { tempDir, writeTinyModel } from './helpers.js';

type Seen = { name: EventName; payload: unknown };

function waitFor<K extends EventName>(events: Seen[], name: K, pred: (p: EventPayload<K>) => boolean = () => true, timeoutMs = 30_000): Promise<EventPayload<K>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const hit = events.find((e) => e.name === name && pred(e.payload as EventPayload<K>));
      if (hit) return resolve(hit.payload as EventPayload<K>);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${name}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('app service with the real engine', () => {
  const tmp = tempDir();
  const modelsDir = path.join(tmp.dir, 'models');
  const dataDir = path.join(tmp.dir, 'data');
  const events: Seen[] = [];
  const pids: (number | undefined)[] = [];
  let service: AppService;

  beforeAll(async () => {
    await writeTinyModel(path.join(modelsDir, 'bitlens-v2'), { name: 'Tiny default' });
    service = await AppService.create({
      dataDir,
      modelsDir,
      engineFactory: childProcessEngineFactory({ threads: 1, onSpawn: (pid) => pids.push(pid) }),
      emit: (name, payload) => events.push({ name, payload }),
    });
    await service.startDefaultModel();
  });
  afterAll(async () => {
    await service?.close();
    tmp.cleanup();
  });

  it('lists the embedded model and loads it', async () => {
    const list = (await service.handle('models.list', {})) as { models: { id: string; name: string; run: object }[]; activeModelId: string };
    expect(list.models.map((m) => m.id)).toEqual(['builtin-bitlens-v2']);
    expect(list.models[0].name).toBe('Tiny default');
    expect(list.activeModelId).toBe('builtin-bitlens-v2');
    expect(service.engine.status.state).toBe('ready');
    expect(service.engine.status.info?.device).toBe('cpu');
  });

  it('streams a reply as batched events, stores it with stats, and keeps tap frames per token', async () => {
    const c = (await service.handle('conversations.create', { sampling: { maxTokens: 12, temperature: 0, seed: 1 } })) as { id: string };
    const started = (await service.handle('chat.send', { conversationId: c.id, text: 'Hello there' })) as { assistantMessageId: string };
    const done = await waitFor(events, 'generation.done', (p) => p.messageId === started.assistantMessageId);
    expect(done.finishReason).toMatch(/length|eos/);
    const batches = events.filter((e) => e.name === 'generation.tokens' && (e.payload as { messageId: string }).messageId === started.assistantMessageId);
    const streamed = batches.flatMap((b) => (b.payload as EventPayload<'generation.tokens'>).tokens);
    expect(streamed.length).toBe(done.message.tokens!.length);
    expect(done.message.content.startsWith(streamed.map((t) => t.text).join(''))).toBe(true);
    expect(done.message.tokens!.map((t) => t.text).join('')).toBe(done.message.content);
    expect((batches.at(-1)!.payload as EventPayload<'generation.tokens'>).taps?.layers.length).toBe(2);
    const stored = (await service.handle('conversations.get', { conversationId: c.id })) as { title: string; messages: { role: string; stats?: { tokensPerSec: number; scheme: string; modelId: string } }[] };
    expect(stored.title).toBe('Hello there');
    expect(stored.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.messages[1].stats).toMatchObject({ scheme: 'b1.58', modelId: 'builtin-bitlens-v2' });
    // Any generated token's frame can be fetched back (the last one, never fed, may have none).
    const first = done.message.tokens![0];
    const frames = await Promise.all(
      done.message.tokens!.map((t) => service.handle('taps.get', { conversationId: c.id, messageId: done.messageId, position: t.position }) as Promise<{ frame: { position: number } | null }>),
    );
    // Token positions line up with the engine's frame positions.
    frames.forEach((f, i) => f.frame && expect(f.frame.position).toBe(done.message.tokens![i].position));
    expect(frames.filter((f) => f.frame).length).toBeGreaterThanOrEqual(done.message.tokens!.length - 1);
    expect(first.position).toBeGreaterThan(2);
  });

  it('stops, regenerates and edits-and-continues', async () => {
    const c = (await service.handle('conversations.create', { sampling: { maxTokens: 200, temperature: 0.8, seed: 3 } })) as { id: string };
    const started = (await service.handle('chat.send', { conversationId: c.id, text: 'tell me a long story' })) as { assistantMessageId: string };
    await waitFor(events, 'generation.tokens', (p) => p.messageId === started.assistantMessageId);
    expect(await service.handle('chat.stop', { conversationId: c.id })).toEqual({ stopped: true });
    const stopped = await waitFor(events, 'generation.done', (p) => p.messageId === started.assistantMessageId);
    expect(stopped.finishReason).toBe('cancelled');

    await service.handle('conversations.update', { conversationId: c.id, sampling: { maxTokens: 5 } });
    const regen = (await service.handle('chat.regenerate', { conversationId: c.id })) as { assistantMessageId: string };
    await waitFor(events, 'generation.done', (p) => p.messageId === regen.assistantMessageId);
    let conv = (await service.handle('conversations.get', { conversationId: c.id })) as { messages: { id: string; role: string; content: string }[] };
    expect(conv.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(conv.messages[1].id).toBe(regen.assistantMessageId);

    const edited = (await service.handle('chat.editAndContinue', { conversationId: c.id, messageIndex: 0, text: 'short one' })) as { assistantMessageId: string };
    await waitFor(events, 'generation.done', (p) => p.messageId === edited.assistantMessageId);
    conv = (await service.handle('conversations.get', { conversationId: c.id })) as typeof conv;
    expect(conv.messages.map((m) => m.content)[0]).toBe('short one');
    expect(conv.messages).toHaveLength(2);
    await expect(service.handle('chat.editAndContinue', { conversationId: c.id, messageIndex: 1, text: 'x' })).rejects.toThrow(/assistant message/);

    const md = (await service.handle('conversations.export', { conversationId: c.id, format: 'markdown' })) as { content: string; filename: string };
    expect(md.content).toContain('## User\n\nshort one');
    expect(md.content).toMatch(/tok\/s/);
    const json = (await service.handle('conversations.export', { conversationId: c.id, format: 'json' })) as { content: string };
    expect(JSON.parse(json.content).messages).toHaveLength(2);
  });

  it('refuses a folder that is not a model, naming the problem, and adds a real one', async () => {
    const notModel = path.join(tmp.dir, 'not-a-model');
    await fs.mkdir(notModel, { recursive: true });
    await fs.writeFile(path.join(notModel, 'config.json'), '{"format": "gguf"}');
    await expect(service.handle('models.add', { folder: notModel })).rejects.toMatchObject({ code: 'invalid_model', message: expect.stringMatching(/config\.json.*format/) });
    await expect(service.handle('models.add', { folder: path.join(tmp.dir, 'missing') })).rejects.toMatchObject({ code: 'invalid_model', message: expect.stringMatching(/does not exist/) });
    const other = await writeTinyModel(path.join(tmp.dir, 'other-model'), { name: 'Other', scheme: 'v2-a4', seed: 2 });
    const entry = (await service.handle('models.add', { folder: other })) as { id: string; trainedScheme: string; run: { scheme: string } };
    expect(entry.trainedScheme).toBe('v2-a4');
    const status = (await service.handle('models.select', { modelId: entry.id, scheme: 'v2-a8', kvBits: 4, device: 'cpu', taps: false })) as { state: string; info: { run: { scheme: string; kvBits: number } } };
    expect(status.state).toBe('ready');
    expect(status.info.run).toMatchObject({ scheme: 'v2-a8', kvBits: 4 });
    const list = (await service.handle('models.list', {})) as { models: { id: string; run: { kvBits: number } }[]; activeModelId: string };
    expect(list.activeModelId).toBe(entry.id);
    expect(list.models.find((m) => m.id === entry.id)!.run.kvBits).toBe(4);
    const exp = (await service.handle('models.select', { modelId: entry.id, scheme: 'v2-a4', kvBits: 16, device: 'cpu', taps: false, experiment: 'v2-retrofit-w16a4' })) as { state: string; info: { run: { experiment?: string }; experimentNote?: string } };
    expect(exp.state).toBe('ready');
    expect(exp.info.run.experiment).toBe('v2-retrofit-w16a4');
    expect(exp.info.experimentNote).toMatch(/^EXPERIMENT v2-retrofit-w16a4/);
    await service.handle('models.select', { modelId: 'builtin-bitlens-v2', scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: true });
  });

  it('reports an engine process killed mid-generation, restarts it, and keeps the conversation', async () => {
    const c = (await service.handle('conversations.create', { sampling: { maxTokens: 200, temperature: 0.8, seed: 5 } })) as { id: string };
    const first = (await service.handle('chat.send', { conversationId: c.id, text: 'first question' })) as { assistantMessageId: string };
    await waitFor(events, 'generation.tokens', (p) => p.messageId === first.assistantMessageId);
    const pid = pids.at(-1)!;
    process.kill(pid, 'SIGKILL');
    const error = await waitFor(events, 'generation.error', (p) => p.messageId === first.assistantMessageId);
    expect(error.error).toMatch(/SIGKILL/);
    await waitFor(events, 'engine.status', (s) => s.state === 'crashed');
    await waitFor(events, 'engine.status', (s) => s.state === 'restarted');
    expect(service.engine.status.restarts).toBe(1);
    expect(pids.at(-1)).not.toBe(pid);
    // The conversation is intact (user turn + partial answer marked with the error) and usable.
    const conv = (await service.handle('conversations.get', { conversationId: c.id })) as { messages: { role: string; content: string; error?: string }[] };
    expect(conv.messages[0].content).toBe('first question');
    expect(conv.messages[1].error).toMatch(/engine process stopped/);
    await service.handle('conversations.update', { conversationId: c.id, sampling: { maxTokens: 4 } });
    const again = (await service.handle('chat.send', { conversationId: c.id, text: 'second question' })) as { assistantMessageId: string };
    const done = await waitFor(events, 'generation.done', (p) => p.messageId === again.assistantMessageId);
    expect(done.message.tokens!.length).toBeGreaterThan(0);
  });

  it('answers malformed requests with invalid_request naming the field', async () => {
    await expect(service.handle('chat.send', { conversationId: 'x' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/chat\.send\.text/) });
    await expect(service.handle('conversations.get', { conversationId: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('engine crash loop', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('stops restarting after three crashes within a minute and says so', async () => {
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    const pids: (number | undefined)[] = [];
    const events: Seen[] = [];
    const service = await AppService.create({
      dataDir: path.join(tmp.dir, 'data'),
      modelsDir: path.join(tmp.dir, 'models'),
      engineFactory: childProcessEngineFactory({ threads: 1, onSpawn: (pid) => pids.push(pid) }),
      emit: (name, payload) => events.push({ name, payload }),
    });
    try {
      await service.startDefaultModel();
      for (let i = 1; i <= 4; i++) {
        await service.engine.ready();
        expect(['ready', 'restarted']).toContain(service.engine.status.state);
        process.kill(pids.at(-1)!, 'SIGKILL');
        await waitFor(events, 'engine.status', (s) => s.restarts === i && s.state !== 'crashed');
      }
      expect(service.engine.status.state).toBe('error');
      expect(service.engine.status.error).toMatch(/crashed 4 times/);
      expect(pids).toHaveLength(4);
      // Selecting the model again is the way out.
      const status = (await service.handle('models.select', { modelId: 'builtin-bitlens-v2', scheme: 'b1.58', kvBits: 16, device: 'cpu', taps: false })) as { state: string };
      expect(status.state).toBe('ready');
    } finally {
      await service.close();
    }
  });
});
