// The renderer needs no inline styles or scripts: under an extra `style-src 'self'` policy (no
// 'unsafe-inline', stricter than the host's), chat, inspector, sparsity, memory and compare run
// without a single CSP violation. (React and recharts set styles through the CSSOM, which CSP
// does not block; a style="" attribute or <style> element would be.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from './harness.js';
import { tempDir, writeTinyModel } from '../app/helpers.js';

describe('renderer under a strict style CSP (e2e)', () => {
  const tmp = tempDir('bitlens-csp-e2e-');
  let h: Harness;
  const violations: string[] = [];

  beforeAll(async () => {
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'), { scheme: 'v2-a4', context: 512 });
    h = await startHarness({ modelsDir: path.join(tmp.dir, 'models'), dataDir: path.join(tmp.dir, 'data') });
    // A second policy in a <meta> before the app's own scripts: both policies are enforced.
    await h.page.addInitScript(`{
      const m = document.createElement('meta');
      m.httpEquiv = 'Content-Security-Policy';
      m.content = "style-src 'self'; script-src 'self'";
      (document.head || document.documentElement).prepend(m);
    }`);
    h.page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await h.page.reload();
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it('runs every view with no violation', async () => {
    const { page } = h;
    // The extra policy is in force: an inline style attribute is refused.
    expect(await page.evaluate(`(() => { const d = document.createElement('div'); d.setAttribute('style', 'width: 123px'); document.body.append(d); const w = getComputedStyle(d).width; d.remove(); return w; })()`)).not.toBe('123px');
    await expect.poll(() => violations.length).toBe(1);
    violations.length = 0;

    await page.getByTestId('engine-state').filter({ hasText: 'v2-a4' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('System prompt & sampling').click();
    await page.getByLabel('Max tokens').fill('24');
    await page.getByLabel('Max tokens').blur();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Hello');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await page.getByTestId('message-stats').waitFor({ timeout: 30_000 });
    await page.getByTestId('site-o').waitFor();
    for (const tab of ['Sparsity', 'Memory']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.locator('.chart-card').first().waitFor();
    }
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.getByTestId('compare-view').getByLabel('Tokens').fill('4');
    await page.getByRole('button', { name: 'Compare (greedy)' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Compare (greedy)' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    await page.locator('.chart-card .recharts-wrapper').first().waitFor();
    await h.screenshot('strict-csp-compare');
    expect(violations).toEqual([]);
  });
});
