// On the trained default model (assets/models/bitlens-v2) and its b1.58 twin, the inspector shows
// the Hadamard transform flattening the outliers of the W_down input at a glance: kurtosis and
// INT4 SQNR before vs after, read from the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { packageRoot } from '../../server/paths.js';
import { startHarness, type Harness } from './harness.js';
import { tempDir } from '../app/helpers.js';

const MODELS = path.join(packageRoot(), 'assets', 'models');

async function downStats(page: Page): Promise<{ kurtosis: number[]; sqnr4: number[] }> {
  const card = page.getByTestId('site-down');
  const row = async (label: string) =>
    (await card.locator('tr', { has: page.getByRole('rowheader', { name: label, exact: true }) }).locator('td').allTextContents()).map((t) => parseFloat(t));
  return { kurtosis: await row('kurtosis'), sqnr4: await row('SQNR INT4') };
}

describe.skipIf(!existsSync(path.join(MODELS, 'bitlens-v2', 'config.json')))('default model inspector (e2e)', () => {
  const tmp = tempDir('bitlens-default-e2e-');
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ modelsDir: MODELS, dataDir: tmp.dir, viewport: { width: 1500, height: 1000 } });
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  async function generate(model: string) {
    const { page } = h;
    await page.locator('.model-bar select').first().selectOption(model);
    await page.getByRole('button', { name: /^(Load|Reload)$/ }).click();
    await page.getByTestId('engine-state').filter({ hasText: model === 'builtin-bitlens-v2' ? 'v2-a4' : 'b1.58' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('System prompt & sampling').click();
    await page.getByLabel('Max tokens').fill('12');
    await page.getByLabel('Max tokens').blur();
    await page.getByText('System prompt & sampling').click();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Once upon a time');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await page.getByTestId('message-stats').waitFor({ timeout: 60_000 });
    await page.getByTestId('site-down').waitFor();
  }

  it('v2-a4: the W_down input is heavy-tailed before the transform and near-Gaussian after it', async () => {
    await generate('builtin-bitlens-v2');
    const s = await downStats(h.page);
    expect(await h.page.getByTestId('site-down').locator('figcaption').allTextContents()).toEqual(['before Hadamard', 'after Hadamard (quantized)']);
    expect(s.kurtosis[0]).toBeGreaterThan(3 * s.kurtosis[1]);
    expect(s.kurtosis[1]).toBeLessThan(6);
    expect(s.sqnr4[1]).toBeGreaterThan(s.sqnr4[0] + 6);
    await h.screenshot('default-v2-inspector');
  });

  it('b1.58 twin: the same contrast with the transform computed by the inspector', async () => {
    await generate('builtin-bitlens-b158');
    const s = await downStats(h.page);
    expect((await h.page.getByTestId('site-down').locator('figcaption').allTextContents())[1]).toContain('computed');
    expect(s.kurtosis[0]).toBeGreaterThan(3 * s.kurtosis[1]);
    expect(s.sqnr4[1]).toBeGreaterThan(s.sqnr4[0] + 6);
    await h.screenshot('default-b158-inspector');
    expect(h.pageErrors).toEqual([]);
  });
});
