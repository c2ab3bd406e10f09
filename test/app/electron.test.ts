// The Electron main process' logic, tested under Node (Electron's binary is not available here):
// IPC sender checks and payload validation, the app:// protocol, settings, and `npm start`'s
// fallback to the browser host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createIpcHandler, isTrustedSender, type IpcSender } from '../../electron/ipc.js';
import { APP_URL, ELECTRON_CSP, isAllowedNavigation, resolveAppRequest } from '../../electron/protocol.js';
import { SettingsFile } from '../../electron/settings.js';
import { electronBinary } from '../../electron/electron-binary.js';
import { AppService } from '../../server/core/service.js';
import { childProcessEngineFactory } from '../../server/core/process-engine.js';
import { tempDir, writeTinyModel } from './helpers.js';

const WINDOW_ID = 7;
const sender = (over: Partial<{ id: number; url: string; parent: unknown; noFrame: boolean }> = {}): IpcSender => ({
  sender: { id: over.id ?? WINDOW_ID },
  senderFrame: over.noFrame ? null : { url: over.url ?? APP_URL, parent: over.parent ?? null },
});

describe('IPC sender checks', () => {
  it('trusts only the main window top frame on app://bitlens', () => {
    expect(isTrustedSender(sender(), WINDOW_ID)).toBe(true);
    expect(isTrustedSender(sender({ id: 8 }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender(), null)).toBe(false);
    expect(isTrustedSender(sender({ url: 'https://evil.example/index.html' }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender({ url: 'file:///etc/passwd' }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender({ url: 'app://other/index.html' }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender({ parent: {} }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender({ noFrame: true }), WINDOW_ID)).toBe(false);
    expect(isTrustedSender(sender({ url: 'not a url' }), WINDOW_ID)).toBe(false);
  });
});

describe('IPC handler with the real service', () => {
  const tmp = tempDir();
  let service: AppService;
  let handler: ReturnType<typeof createIpcHandler>;
  beforeAll(async () => {
    // No models: these requests never need the engine.
    service = await AppService.create({ dataDir: tmp.dir, engineFactory: childProcessEngineFactory(), emit: () => {} });
    handler = createIpcHandler({ handle: (n, p) => service.handle(n, p), windowWebContentsId: () => WINDOW_ID });
  });
  afterAll(async () => {
    await service.close();
    tmp.cleanup();
  });

  it('runs valid requests from the window', async () => {
    const reply = await handler(sender(), { name: 'conversations.create', params: { title: 'From IPC' } });
    expect(reply).toMatchObject({ ok: true, result: { title: 'From IPC', messages: [] } });
    const list = await handler(sender(), { name: 'conversations.list', params: {} });
    expect(list).toMatchObject({ ok: true, result: { conversations: [{ title: 'From IPC' }] } });
  });

  it('refuses other senders before looking at the payload', async () => {
    const reply = await handler(sender({ url: 'https://evil.example/' }), { name: 'conversations.list', params: {} });
    expect(reply).toEqual({ ok: false, error: { code: 'invalid_request', message: 'request refused: unknown sender' } });
  });

  it('validates every payload, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [null, /must be an object/],
      ['conversations.list', /must be an object/],
      [{ name: 'fs.readFile', params: {} }, /unknown request/],
      [{ name: 'conversations.rename', params: { conversationId: 'x' } }, /conversations\.rename\.title/],
      [{ name: 'conversations.rename', params: { conversationId: 'x', title: 'y', __proto__: { polluted: 1 }, evil: 1 } }, /evil/],
      [{ name: 'models.select', params: { modelId: 'm', scheme: 'fp', kvBits: 16, device: 'tpu', taps: true } }, /models\.select\.device/],
    ];
    for (const [message, re] of cases) {
      const reply = await handler(sender(), message);
      expect(reply.ok, String(re)).toBe(false);
      if (!reply.ok) {
        expect(reply.error.code).toBe('invalid_request');
        expect(reply.error.message).toMatch(re);
      }
    }
  });
});

describe('app:// protocol', () => {
  const tmp = tempDir();
  const root = path.join(tmp.dir, 'renderer');
  beforeAll(async () => {
    await fs.mkdir(path.join(root, 'assets'), { recursive: true });
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html>');
    await fs.writeFile(path.join(root, 'assets', 'a.js'), 'x');
    await fs.writeFile(path.join(tmp.dir, 'secret.txt'), 'secret');
  });
  afterAll(() => tmp.cleanup());

  it('serves files inside the renderer folder with the CSP and their type', async () => {
    const index = await resolveAppRequest(root, APP_URL);
    expect(index.status).toBe(200);
    expect(index.headers['Content-Type']).toMatch(/text\/html/);
    expect(index.headers['Content-Security-Policy']).toBe(ELECTRON_CSP);
    expect(ELECTRON_CSP).toContain("connect-src 'none'");
    expect(ELECTRON_CSP).toContain("script-src 'self'");
    expect((await resolveAppRequest(root, 'app://bitlens/assets/a.js')).headers['Content-Type']).toMatch(/javascript/);
    expect((await resolveAppRequest(root, 'app://bitlens/assets/nope.js')).status).toBe(404);
  });

  it('never leaves the renderer folder or answers for another host', async () => {
    for (const url of ['app://bitlens/..%2fsecret.txt', 'app://bitlens/%2e%2e/secret.txt', 'app://bitlens/assets/..%2f..%2fsecret.txt', 'app://bitlens/%00']) {
      const r = await resolveAppRequest(root, url);
      expect([400, 404], url).toContain(r.status);
      expect(String(r.body)).not.toContain('secret');
    }
    expect((await resolveAppRequest(root, 'app://evil/index.html')).status).toBe(403);
    expect((await resolveAppRequest(root, 'file:///etc/passwd')).status).toBe(403);
  });

  it('allows navigation only within app://bitlens', () => {
    expect(isAllowedNavigation('app://bitlens/index.html#/chat')).toBe(true);
    expect(isAllowedNavigation('https://example.com/')).toBe(false);
    expect(isAllowedNavigation('file:///index.html')).toBe(false);
    expect(isAllowedNavigation('javascript:alert(1)')).toBe(false);
  });
});

describe('settings', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('defaults to the API off with a generated token, persists updates, backs up a corrupt file', async () => {
    const problems: string[] = [];
    const s = await SettingsFile.open(tmp.dir, (p) => problems.push(p.message));
    expect(s.get().api.enabled).toBe(false);
    expect(s.get().api.token.length).toBeGreaterThanOrEqual(16);
    await s.update({ api: { ...s.get().api, enabled: true, port: 6000 } });
    expect((await SettingsFile.open(tmp.dir, () => {})).get().api).toMatchObject({ enabled: true, port: 6000 });
    await expect(s.update({ api: { enabled: true, port: 80, token: 'short' } })).rejects.toThrow();
    await fs.writeFile(path.join(tmp.dir, 'settings.json'), '{"api": ');
    const again = await SettingsFile.open(tmp.dir, (p) => problems.push(p.message));
    expect(again.get().api.enabled).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/settings\.json could not be read/);
    expect((await fs.readdir(path.join(tmp.dir, 'backup')))[0]).toMatch(/^settings\.json\..*\.corrupt$/);
  });
});

describe('npm start without the Electron binary', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('says so and falls back to the browser host, printing its URL', async () => {
    expect(electronBinary()).toBeNull();
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'electron/launch.ts', '--port', '0', '--data-dir', path.join(tmp.dir, 'data'), '--models-dir', path.join(tmp.dir, 'models')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /running at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).toMatch(/Electron's binary is not installed/);
    const status = await fetch(url).then((r) => r.status);
    expect([200, 503]).toContain(status); // 503 = renderer not built yet, with a message saying so
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
