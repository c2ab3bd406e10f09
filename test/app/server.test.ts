// The browser host over real HTTP and WebSocket on 127.0.0.1, with the real engine, driven by the
// renderer's own WebSocket client (renderer/host) using `ws` as its WebSocket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/server.js';
import { childProcessEngineFactory } from '../../server/core/process-engine.js';
import { WebSocketHost, type WebSocketConstructor } from '../../renderer/host/websocket-host.js';
import { BitLensError, type EventPayload } from '../../contract/index.js';
import { tempDir, writeTinyModel } from './helpers.js';

describe('browser host', () => {
  const tmp = tempDir();
  let server: RunningServer;
  let host: WebSocketHost;

  beforeAll(async () => {
    const rendererDir = path.join(tmp.dir, 'renderer');
    await fs.mkdir(path.join(rendererDir, 'assets'), { recursive: true });
    await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>BitLens</title>');
    await fs.writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    await fs.writeFile(path.join(tmp.dir, 'secret.txt'), 'secret');
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    server = await startServer({ port: 0, host: '127.0.0.1', dataDir: path.join(tmp.dir, 'data'), modelsDir: path.join(tmp.dir, 'models'), rendererDir, engineFactory: childProcessEngineFactory({ threads: 1 }) });
    host = new WebSocketHost(`ws://127.0.0.1:${server.port}/ws`, WebSocket as unknown as WebSocketConstructor);
  });
  afterAll(async () => {
    host?.close();
    await server?.close();
    tmp.cleanup();
  });

  it('serves the renderer with a strict CSP, and nothing outside it', async () => {
    const index = await fetch(server.url);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>BitLens</title>');
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'.*script-src 'self'/);
    const js = await fetch(`${server.url}assets/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}..%2fsecret.txt`)).status).toBe(400);
    expect((await fetch(`${server.url}assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}v1/models`)).status).toBe(404); // API off by default
  });

  it('refuses requests for another Host (DNS rebinding) and WebSockets from other origins', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) =>
      request({ host: '127.0.0.1', port: server.port, path: '/', headers: { Host: 'evil.example:80' } }, (res) => resolve(res.statusCode!)).on('error', reject).end(),
    );
    expect(status).toBe(421);
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    expect(refused).toBe('403');
  });

  it('round-trips the contract: conversation, streamed tokens with Float32Array taps, done, reload', async () => {
    const tokens: EventPayload<'generation.tokens'>[] = [];
    const done = new Promise<EventPayload<'generation.done'>>((resolve) => host.on('generation.done', resolve));
    host.on('generation.tokens', (p) => tokens.push(p));
    const status = await host.request('engine.status', {});
    expect(['starting', 'ready']).toContain(status.state);
    await server.service.engine.ready();
    const c = await host.request('conversations.create', { sampling: { maxTokens: 10, temperature: 0 } });
    const started = await host.request('chat.send', { conversationId: c.id, text: 'Hi' });
    expect(started.conversation.messages[0].content).toBe('Hi');
    const final = await done;
    expect(final.messageId).toBe(started.assistantMessageId);
    const streamed = tokens.flatMap((t) => t.tokens);
    expect(final.message.content.startsWith(streamed.map((t) => t.text).join(''))).toBe(true);
    expect(streamed.length).toBe(final.message.tokens!.length);
    const taps = tokens.at(-1)!.taps!;
    expect(taps.layers[0].qkv).toBeInstanceOf(Float32Array);
    expect(taps.layers[0].qkv.length).toBe(32);
    // A past token's frame comes back through the codec as the same floats.
    const pos = final.message.tokens![0].position;
    const { frame } = await host.request('taps.get', { conversationId: c.id, messageId: final.messageId, position: pos });
    expect(frame!.position).toBe(pos);
    expect(frame!.layers[1].down).toBeInstanceOf(Float32Array);
    expect(frame!.layers[1].down.length).toBe(64);
    expect(Number.isFinite(frame!.layers[1].down[0])).toBe(true);
    // "Reload": a fresh client finds the conversation.
    const other = new WebSocketHost(`ws://127.0.0.1:${server.port}/ws`, WebSocket as unknown as WebSocketConstructor);
    const list = await other.request('conversations.list', {});
    expect(list.conversations.find((x) => x.id === c.id)?.messageCount).toBe(2);
    other.close();
  });

  it('answers malformed requests with invalid_request naming the field', async () => {
    const error = await host.request('chat.send', { conversationId: 'x' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitLensError);
    expect(error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/chat\.send\.text/) });
    const raw = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const replies: unknown[] = [];
    await new Promise((r) => raw.on('open', r));
    raw.on('message', (d) => replies.push(JSON.parse(String(d))));
    raw.send('{not json');
    raw.send(JSON.stringify({ type: 'request', id: 7, name: 'no.such', params: {} }));
    await new Promise((r) => setTimeout(r, 200));
    raw.close();
    const responses = replies.filter((r) => (r as { type: string }).type === 'response') as { id: number; ok: boolean; error: { code: string; message: string } }[];
    expect(responses).toHaveLength(2);
    expect(responses[0]).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(responses[1]).toMatchObject({ id: 7, ok: false, error: { code: 'invalid_request', message: expect.stringMatching(/unknown request/) } });
  });

  it('the client reconnects after the host restarts, and requests work again', async () => {
    const dataDir = path.join(tmp.dir, 'data-restart');
    const modelsDir = path.join(tmp.dir, 'no-models');
    const first = await startServer({ port: 0, dataDir, modelsDir, rendererDir: tmp.dir });
    const port = first.port;
    const client = new WebSocketHost(`ws://127.0.0.1:${port}/ws`, WebSocket as unknown as WebSocketConstructor);
    const c = await client.request('conversations.create', { title: 'survives' });
    await first.close();
    await expect(client.request('conversations.list', {})).rejects.toMatchObject({ code: 'engine_unavailable' });
    const second = await startServer({ port, dataDir, modelsDir, rendererDir: tmp.dir });
    try {
      const statuses: string[] = [];
      client.on('engine.status', (s) => statuses.push(s.state));
      await new Promise((r) => setTimeout(r, 1500)); // the client retries once a second
      const list = await client.request('conversations.list', {});
      expect(list.conversations.map((x) => x.id)).toContain(c.id);
      expect(statuses).toContain('idle'); // the new host greets every connection with its status
    } finally {
      client.close();
      await second.close();
    }
  });
});
