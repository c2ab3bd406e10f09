// The chat flow in Debian Chromium against the real browser host and engine (tiny random model):
// start, send, streamed tokens, stop, regenerate, edit and continue, reload and find it again,
// and a failed request that keeps the typed prompt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from './harness.js';
import { tempDir, writeTinyModel } from '../app/helpers.js';

describe('chat (e2e)', () => {
  const tmp = tempDir('bitlens-chat-e2e-');
  let h: Harness;

  beforeAll(async () => {
    // Long context so a generation runs long enough to be stopped.
    await writeTinyModel(path.join(tmp.dir, 'models', 'bitlens-v2'), { scheme: 'v2-a4', context: 4096 });
    h = await startHarness({ modelsDir: path.join(tmp.dir, 'models'), dataDir: path.join(tmp.dir, 'data') });
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it('starts with the model loaded and an empty conversation list', async () => {
    const { page } = h;
    await page.getByTestId('engine-state').filter({ hasText: 'v2-a4' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('nav.conversations li').count()).toBe(0);
    await h.screenshot('chat-start');
  });

  it('sends a prompt and streams the answer token by token, with per-message stats', async () => {
    const { page } = h;
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('System prompt & sampling').click();
    const maxTokens = page.getByLabel('Max tokens');
    await maxTokens.fill('48');
    await maxTokens.blur();
    await page.getByLabel('Temperature (0 = greedy)').fill('0');
    await page.getByLabel('Temperature (0 = greedy)').blur();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Hello, BitLens');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    await expect.poll(() => page.getByTestId('message-user').textContent()).toContain('Hello, BitLens');
    const stats = page.getByTestId('message-stats').last();
    await stats.waitFor({ timeout: 30_000 });
    const statsText = (await stats.textContent()) ?? '';
    expect(statsText).toMatch(/tiny-test · v2-a4 · KV 16 · cpu · [\d.]+ tok\/s · TTFT \d+ ms · 48 tokens · length/);
    // The answer is rendered as one span per token (clickable for the inspector).
    expect(await page.locator('[data-testid=assistant-text] .tok').count()).toBe(48);
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).inputValue()).toBe('');
    await h.screenshot('chat-answer');
  });

  it('stops a long generation, keeping the partial answer', async () => {
    const { page } = h;
    const maxTokens = page.getByLabel('Max tokens');
    await maxTokens.fill('3000');
    await maxTokens.blur();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Keep going');
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter');
    const stop = page.getByRole('button', { name: 'Stop' });
    await stop.waitFor();
    // Wait for some streamed tokens before stopping.
    await expect.poll(() => page.locator('.message.streaming .tok').count(), { timeout: 30_000 }).toBeGreaterThan(5);
    await h.screenshot('chat-streaming');
    await stop.click();
    const stats = page.getByTestId('message-stats').nth(1);
    await stats.waitFor({ timeout: 30_000 });
    expect(await stats.textContent()).toMatch(/· cancelled$/);
    const n = Number(/(\d+) tokens/.exec((await stats.textContent()) ?? '')?.[1]);
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(3000);
  });

  it('regenerates the last answer in place', async () => {
    const { page } = h;
    await page.getByLabel('Max tokens').fill('16');
    await page.getByLabel('Max tokens').blur();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(async () => (await page.getByTestId('message-stats').nth(1).textContent()) ?? '', { timeout: 30_000 }).toMatch(/16 tokens · length$/);
    expect(await page.getByTestId('message-assistant').count()).toBe(2);
  });

  it('edits a user message and continues from there', async () => {
    const { page } = h;
    await page.getByTestId('message-user').first().getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit message').fill('Hello again, edited');
    await page.getByRole('button', { name: 'Save & continue' }).click();
    await expect.poll(() => page.getByTestId('message-user').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('message-user').textContent()).toContain('Hello again, edited');
    await page.getByTestId('message-stats').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('message-assistant').count()).toBe(1);
  });

  it('finds the conversation again after a reload, and keeps an unsent draft', async () => {
    const { page } = h;
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('a draft I have not sent');
    await page.reload();
    await page.getByTestId('message-user').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('message-user').textContent()).toContain('Hello again, edited');
    expect(await page.locator('nav.conversations li.current .conv-title').textContent()).toBeTruthy();
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).inputValue()).toBe('a draft I have not sent');
    await h.screenshot('chat-after-reload');
  });

  it('shows a refused request as an error banner without losing the typed prompt', async () => {
    const { page } = h;
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('my carefully typed question');
    // A folder that is not a model: the host refuses it with the reason.
    await page.getByLabel('Add model folder').fill(path.join(tmp.dir, 'data'));
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const alert = page.getByRole('alert').first();
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/config\.json|not a model|model/i);
    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).inputValue()).toBe('my carefully typed question');
    await h.screenshot('chat-error-banner');
    await page.getByRole('button', { name: 'Dismiss' }).first().click();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });
});
