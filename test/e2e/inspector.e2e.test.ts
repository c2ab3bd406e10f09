// The model views in Debian Chromium on the real browser host and engine: inspector (histograms
// before/after the Hadamard transform, stats, outlier channels, heatmap, past tokens through
// taps.get, export), sparsity, memory, compare mode, dark theme and a small window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { byteLevelTokenizerJson } from '../../engine/common/byte-tokenizer.js';
import { randomModelWeights, tinyConfig } from '../../engine/common/random-model.js';
import { writeModelDir } from '../../engine/node/model-dir.js';
import { startHarness, type Harness } from './harness.js';
import { tempDir } from '../app/helpers.js';

const LAYERS = 4;

/** A small random v2-a4 model: a few layers and power-of-two widths, still quick on CPU. */
async function writeModel(dir: string): Promise<void> {
  mkdirSync(path.dirname(dir), { recursive: true });
  const config = tinyConfig({
    vocabSize: 260, hiddenSize: 64, numLayers: LAYERS, numHeads: 4, numKvHeads: 2, intermediateSize: 128,
    bosTokenId: 256, eosTokenIds: [257], maxPositionEmbeddings: 512, scheme: 'v2-a4', name: 'inspect-test',
  });
  await writeModelDir(dir, {
    config,
    weights: randomModelWeights(config, 7),
    tokenizerJson: byteLevelTokenizerJson([{ id: 256, content: '<s>' }, { id: 257, content: '</s>' }]),
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' },
  });
}

async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; body: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), body: readFileSync(file) };
}

describe('inspector and model views (e2e)', () => {
  const tmp = tempDir('bitlens-inspector-e2e-');
  let h: Harness;

  beforeAll(async () => {
    await writeModel(path.join(tmp.dir, 'models', 'bitlens-v2'));
    h = await startHarness({ modelsDir: path.join(tmp.dir, 'models'), dataDir: path.join(tmp.dir, 'data'), viewport: { width: 1500, height: 1000 } });
    const { page } = h;
    await page.getByTestId('engine-state').filter({ hasText: 'v2-a4' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('System prompt & sampling').click();
    await page.getByLabel('Max tokens').fill('40');
    await page.getByLabel('Max tokens').blur();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Look inside');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await page.getByTestId('message-stats').waitFor({ timeout: 30_000 });
    await page.getByText('System prompt & sampling').click();
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it('shows every quantized input of the layer, with before/after Hadamard panels and stats', async () => {
    const { page } = h;
    const inspector = page.getByTestId('inspector');
    expect(await inspector.getByTestId('inspector-token').textContent()).toMatch(/^Last token #\d+$/);
    for (const site of ['qkv', 'o', 'gateup', 'down']) {
      const card = page.getByTestId(`site-${site}`);
      const figures = await card.locator('figure').count();
      expect(figures).toBe(site === 'o' || site === 'down' ? 2 : 1);
      expect(await card.locator('canvas').count()).toBe(figures);
      expect(await card.locator('table').textContent()).toMatch(/kurtosis.*SQNR INT4.*dB.*SQNR INT8.*dB/s);
    }
    expect(await page.getByTestId('site-o').locator('figcaption').allTextContents()).toEqual(['before Hadamard', 'after Hadamard (quantized)']);
    // The canvas draws something: a histogram is not a blank rectangle.
    const inked = await page.getByTestId('site-qkv').locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (d.length / 4);
    });
    expect(inked).toBeGreaterThan(0.02);
    // Outliers: before and after, each with its top-8 list and a layer x channel map.
    // The recent-frames list behind this panel is refreshed on a throttle, after the live histograms.
    const outliers = page.getByTestId('outliers');
    await expect.poll(() => outliers.locator('.outlier-col').count(), { timeout: 10_000 }).toBe(2);
    expect(await outliers.locator('table.top-channels tbody tr').count()).toBe(16);
    expect(await outliers.locator('canvas.heatmap-canvas').count()).toBe(2);
    await h.screenshot('inspector');
    await outliers.scrollIntoViewIfNeeded();
    await h.screenshot('inspector-outliers');
    await page.getByTestId('site-qkv').scrollIntoViewIfNeeded();
  });

  it('inspects a past token through taps.get, by click and by keyboard, and returns to live', async () => {
    const { page } = h;
    // Tokens that end inside a multi-byte character have no text (nothing to click): pick one with text.
    const token = page.locator('[data-testid=assistant-text] .tok').filter({ hasText: /\S/ }).nth(3);
    const pos = Number(await token.getAttribute('data-pos'));
    await token.click();
    await expect.poll(() => page.getByTestId('inspector-token').textContent()).toBe(`Token #${pos}`);
    expect(await token.getAttribute('class')).toContain('selected');
    await page.getByTestId('assistant-text').press('ArrowRight');
    await expect.poll(() => page.getByTestId('inspector-token').textContent()).toBe(`Token #${pos + 1}`);
    await page.getByTestId('layer-select').selectOption('2');
    expect(await page.getByTestId('site-down').locator('canvas').count()).toBe(2);
    await h.screenshot('inspector-past-token-layer2');
    await page.getByRole('button', { name: 'Back to live' }).click();
    expect(await page.getByTestId('inspector-token').textContent()).toMatch(/^Last token #\d+$/);
  });

  it('exports the layer statistics as CSV, JSON and a histogram as PNG', async () => {
    const { page } = h;
    const csv = await download(page, () => page.getByRole('button', { name: 'layer stats CSV' }).click());
    const lines = csv.body.toString('utf8').trim().split('\n');
    expect(lines[0]).toBe('position,layer,site,variant,absmax,absmean,kurtosis,sqnr_db_int4,sqnr_db_int8,clipped_int4,clipped_int8,zeros_int4,zeros_int8');
    // Per layer: qkv, gateup, and o / down before and after the Hadamard transform.
    expect(lines.length - 1).toBe(LAYERS * 6);
    const json = JSON.parse((await download(page, () => page.getByRole('button', { name: 'JSON', exact: true }).click())).body.toString('utf8'));
    expect(json.scheme).toBe('v2-a4');
    expect(json.layerStats).toHaveLength(LAYERS * 6);
    const hist = await download(page, () => page.getByRole('button', { name: 'histograms CSV' }).click());
    expect(hist.body.toString('utf8').split('\n')[0]).toBe('position,layer,site,variant,bin_lo,bin_hi,count');
    const png = await download(page, () => page.getByTestId('site-o').getByRole('button', { name: 'PNG' }).click());
    expect(png.name).toMatch(/\.png$/);
    expect(png.body.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('draws the sparsity graphs against the a4.8 paper figures', async () => {
    const { page } = h;
    await page.getByRole('tab', { name: 'Sparsity' }).click();
    const view = page.getByTestId('sparsity-view');
    expect(await view.getByTestId('sparsity-summary').textContent()).toMatch(/overall activation sparsity [\d.]+% \(a4\.8 7B: 44\.5%/);
    // The live per-layer chart on canvas, the other two with recharts.
    await expect.poll(() => view.locator('.chart-card .recharts-wrapper').count()).toBe(2);
    expect(await view.locator('.chart-card canvas.line-canvas').count()).toBe(1);
    expect(await view.getByRole('img', { name: /zeros in the quantized activations per layer/i }).getAttribute('aria-label')).toMatch(new RegExp(`: ${LAYERS} points; latest`));
    expect(await view.textContent()).toContain('a4.8 7B (paper)');
    const png = await download(page, () => view.getByRole('button', { name: 'PNG' }).first().click());
    expect(png.body.subarray(1, 4).toString('latin1')).toBe('PNG');
    // The chart itself (2x), not a legend icon: IHDR width and height.
    expect(png.body.readUInt32BE(16)).toBeGreaterThan(400);
    expect(png.body.readUInt32BE(20)).toBeGreaterThan(300);
    await h.screenshot('sparsity');
  });

  it('draws the memory graphs: weights, KV cache and activations vs context, RSS and tokens/s', async () => {
    const { page } = h;
    await page.getByRole('tab', { name: 'Memory' }).click();
    const view = page.getByTestId('memory-view');
    expect(await view.getByTestId('memory-summary').textContent()).toMatch(/Weights [\d.]+ MiB packed vs [\d.]+ MiB in fp16.*KV cache at 16 bits: [\d.]+ MiB for \d+ tokens/);
    await expect.poll(() => view.locator('.chart-card').count()).toBe(4);
    // Weights as a recharts bar chart; the live series on canvas.
    expect(await view.locator('.chart-card .recharts-wrapper').count()).toBe(1);
    expect(await view.locator('.chart-card canvas.line-canvas').count()).toBe(3);
    // Activations computed from the model's shapes, not measured: logits of the last token, 260 x float32.
    expect(await view.getByRole('img', { name: /KV cache and decode-step activations/ }).getAttribute('aria-label')).toMatch(/activations, decode step \(computed\) [\d.]+/);
    const table = view.getByTestId('activation-memory');
    expect(await table.textContent()).toContain("Computed from the graph's shapes");
    expect(await table.getByRole('row', { name: /^logits/ }).locator('td').first().textContent()).toBe('1.0 KiB');
    // The browser host runs the engine on the CPU: no GPU memory line.
    expect(await view.getByTestId('gpu-memory-note').count()).toBe(0);
    const png = await download(page, () => view.getByRole('button', { name: 'PNG' }).nth(1).click());
    expect(png.name).toBe('bitlens-kv-cache.png');
    expect(png.body.subarray(1, 4).toString('latin1')).toBe('PNG');
    await h.screenshot('memory');
  });

  it('compares two schemes on one prompt side by side', async () => {
    const { page } = h;
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const view = page.getByTestId('compare-view');
    await view.getByLabel('Scheme A').selectOption('b1.58');
    await view.getByLabel('Scheme B').selectOption('v2-a4');
    await view.getByLabel('Tokens').fill('12');
    await view.getByRole('button', { name: 'Compare (greedy)' }).click();
    await expect.poll(() => view.getByRole('button', { name: 'Compare (greedy)' }).isEnabled(), { timeout: 60_000 }).toBe(true);
    expect(await view.getByTestId('compare-run-0').locator('h3').textContent()).toBe('A: b1.58');
    expect(await view.getByTestId('compare-run-1').locator('h3').textContent()).toBe('B: v2-a4');
    expect(await view.locator('.compare-run mark').count()).toBe(2);
    for (const i of [0, 1]) expect(((await view.getByTestId(`compare-run-${i}`).locator('mark').textContent()) ?? '').length).toBeGreaterThan(0);
    expect(await view.locator('.chart-card .recharts-wrapper').count()).toBe(1);
    // b1.58 has no Hadamard: its "after" panel is computed for comparison; v2-a4's is the real input.
    expect(await view.getByTestId('compare-hist-0').locator('figcaption').last().textContent()).toContain('computed');
    expect(await view.getByTestId('compare-hist-1').locator('figcaption').last().textContent()).toBe('after Hadamard (quantized)');
    await h.screenshot('compare');
    // The model's own run options are restored afterwards.
    await page.getByTestId('engine-state').filter({ hasText: 'v2-a4' }).waitFor();
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
  });

  it('switches to the dark theme and stays usable in a small window', async () => {
    const { page } = h;
    await page.getByRole('tab', { name: 'Inspector' }).click();
    await page.getByRole('button', { name: /Switch theme/ }).click();
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByRole('button', { name: /Switch theme/ }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(theme);
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== 'dark') await page.getByRole('button', { name: /Switch theme/ }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.locator('nav.conversations li').filter({ hasText: 'Look inside' }).getByRole('button').first().click();
    await page.locator('[data-testid=assistant-text] .tok').filter({ hasText: /\S/ }).nth(5).click();
    await page.getByTestId('site-qkv').waitFor();
    await h.screenshot('inspector-dark');
    await page.setViewportSize({ width: 640, height: 900 });
    // No horizontal overflow of the page at phone-like widths.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await h.screenshot('small-window');
    expect(h.pageErrors).toEqual([]);
  });
});
