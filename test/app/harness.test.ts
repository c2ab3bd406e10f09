// The e2e harness itself: real server + Debian Chromium; the page reaches the host over the
// WebSocket allowed by the CSP, through the renderer's own host client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../e2e/harness.js';
import { tempDir, writeTinyModel } from './helpers.js';

describe('e2e harness', () => {
  const tmp = tempDir();
  let h: Harness;

  beforeAll(async () => {
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    h = await startHarness({ modelsDir: path.join(tmp.dir, 'models'), dataDir: path.join(tmp.dir, 'data') });
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it('serves the built renderer to Chromium on a loopback URL', async () => {
    expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await h.page.title()).toBeTruthy();
    const csp = (await h.page.request.get(h.url)).headers()['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
  });

  it('lets the page talk the contract over the WebSocket, and blocks other origins by CSP', async () => {
    const reply = await h.page.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/ws`);
          ws.onmessage = (e) => {
            const m = JSON.parse(String(e.data));
            if (m.type === 'response') resolve(JSON.stringify(m));
          };
          ws.onopen = () => ws.send(JSON.stringify({ type: 'request', id: 1, name: 'models.list', params: {} }));
          ws.onerror = () => reject(new Error('ws error'));
        }),
    );
    const parsed = JSON.parse(reply) as { ok: boolean; result: { models: { id: string }[] } };
    expect(parsed.ok).toBe(true);
    expect(parsed.result.models[0].id).toBe('builtin-bitlens-v2');
    const blocked = await h.page.evaluate(async () => {
      try {
        await fetch('https://example.com/');
        return 'fetched';
      } catch {
        return 'blocked';
      }
    });
    expect(blocked).toBe('blocked');
    expect(await h.screenshot('harness-smoke')).toMatch(/harness-smoke\.png$/);
    // Loading the app raised no console errors (CSP violations, missing files...).
    expect(h.pageErrors.filter((e) => !e.includes('example.com'))).toEqual([]);
  });
});
