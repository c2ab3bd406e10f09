// The OpenAI-compatible API over real HTTP on 127.0.0.1 against a tiny random model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startServer, type RunningServer } from '../../server/server.js';
import { childProcessEngineFactory } from '../../server/core/process-engine.js';
import { startApiServer } from '../../server/api-server.js';
import { tempDir, writeTinyModel } from './helpers.js';

const TOKEN = 'test-token-123';

describe('OpenAI-compatible API', () => {
  const tmp = tempDir();
  let server: RunningServer;
  let base: string;
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

  beforeAll(async () => {
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    server = await startServer({ port: 0, dataDir: path.join(tmp.dir, 'data'), modelsDir: path.join(tmp.dir, 'models'), rendererDir: tmp.dir, apiToken: TOKEN, engineFactory: childProcessEngineFactory({ threads: 1 }) });
    base = `${server.url}v1`;
    await server.service.engine.ready();
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  it('lists the loaded model', async () => {
    const res = await fetch(`${base}/models`, { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: { id: string; object: string }[] };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['builtin-bitlens-v2']);
  });

  it('refuses requests without the right bearer token (401 JSON)', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong-token' }, { Authorization: TOKEN }]) {
      const res = await fetch(`${base}/models`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    }
  });

  it('answers a non-streaming chat completion', async () => {
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'builtin-bitlens-v2', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: { message: { role: string; content: string }; finish_reason: string }[]; usage: { completion_tokens: number; prompt_tokens: number } };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message.role).toBe('assistant');
    expect(typeof body.choices[0].message.content).toBe('string');
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(body.usage.prompt_tokens).toBeGreaterThan(5);
    if (body.usage.completion_tokens === 6) expect(body.choices[0].finish_reason).toBe('length');
  });

  it('streams a chat completion as SSE chunks ending with [DONE], same text as non-streaming', async () => {
    const request = { model: 'builtin-bitlens-v2', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }], max_tokens: 8, temperature: 0 };
    const res = await fetch(`${base}/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ ...request, stream: true }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { delta: { content?: string; role?: string }; finish_reason: string | null }[] });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.at(-1)!.choices[0].finish_reason).not.toBeNull();
    const streamed = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    const plain = (await (await fetch(`${base}/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(request) })).json()) as { choices: { message: { content: string } }[] };
    expect(streamed).toBe(plain.choices[0].message.content);
  });

  it('answers malformed requests with 4xx JSON errors naming the problem', async () => {
    const post = (body: string) => fetch(`${base}/chat/completions`, { method: 'POST', headers: auth, body });
    let res = await post('{"model": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    res = await post(JSON.stringify({ model: 'builtin-bitlens-v2', messages: [{ role: 'wizard', content: 'x' }] }));
    expect(res.status).toBe(400);
    const bad = (await res.json()) as { error: { message: string; param: string } };
    expect(bad.error.param).toBe('messages.0.role');
    res = await post(JSON.stringify({ model: 'builtin-bitlens-v2', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/temperature/);
    res = await post(JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    res = await fetch(`${base}/chat/completions`, { headers: auth });
    expect(res.status).toBe(405);
  });

  it('also runs on its own port (the Electron app), sharing the engine', async () => {
    const api = await startApiServer({ service: server.service, port: 0, token: TOKEN });
    try {
      const models = await fetch(`${api.url}/models`, { headers: auth });
      expect(((await models.json()) as { data: { id: string }[] }).data[0].id).toBe('builtin-bitlens-v2');
      expect((await fetch(`${api.url}/models`)).status).toBe(401);
      expect((await fetch(api.url.replace('/v1', '/index.html'), { headers: auth })).status).toBe(404);
    } finally {
      await api.close();
    }
  });
});
