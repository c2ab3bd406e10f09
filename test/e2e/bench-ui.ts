// UI smoothness while the engine decodes at full speed: requestAnimationFrame intervals and long
// tasks in Debian Chromium on the browser host, with the inspector (or another view) open.
//   npx tsx test/e2e/bench-ui.ts [--models DIR] [--model ID] [--tokens N] [--answer-tokens N] [--view inspector|sparsity|memory] [--shots]
// --tokens: total tokens to generate (several answers if needed); --answer-tokens: max tokens per answer.
// Prints the figures recorded in docs/benchmarks.md (renderer section).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../server/paths.js';
import { startHarness } from './harness.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: path.join(packageRoot(), 'assets', 'models') },
    model: { type: 'string' },
    tokens: { type: 'string', default: '400' },
    'answer-tokens': { type: 'string' },
    view: { type: 'string', default: 'inspector' },
    shots: { type: 'boolean', default: false },
  },
});
const tokens = Number(values.tokens);
if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`--tokens must be a positive integer, not ${values.tokens}`);
if (!['inspector', 'sparsity', 'memory'].includes(values.view!)) throw new Error(`--view must be inspector, sparsity or memory, not ${values.view}`);

const data = mkdtempSync(path.join(os.tmpdir(), 'bitlens-bench-ui-'));
const h = await startHarness({ modelsDir: values.models!, dataDir: data, viewport: { width: 1500, height: 1000 } });
try {
  const { page } = h;
  await page.getByTestId('engine-state').filter({ hasText: /·/ }).waitFor({ timeout: 60_000 });
  if (values.model) {
    await page.locator('.model-bar select').first().selectOption(values.model);
    await page.getByRole('button', { name: /^(Load|Reload)$/ }).click();
    await page.getByRole('button', { name: 'Reload' }).waitFor({ timeout: 60_000 });
  }
  const engine = await page.getByTestId('engine-state').textContent();
  // Every answer in a new conversation, so the context never runs out.
  const newChat = async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByText('System prompt & sampling').click();
    await page.getByLabel('Max tokens').fill(values['answer-tokens'] ?? String(tokens));
    await page.getByLabel('Max tokens').blur();
    await page.getByText('System prompt & sampling').click();
  };
  await newChat();
  if (values.view !== 'inspector') await page.getByRole('tab', { name: values.view === 'sparsity' ? 'Sparsity' : 'Memory' }).click();

  // Plain-JS strings: tsx's transform would add helpers (__name) that do not exist in the page.
  const install = () =>
    page.evaluate(`(() => {
      const b = (window.__bench = { deltas: [], long: [], updates: 0, stop: false });
      let last = performance.now();
      const tick = (t) => { b.deltas.push(t - last); last = t; if (!b.stop) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      new PerformanceObserver((list) => list.getEntries().forEach((e) => b.long.push(e.duration))).observe({ type: 'longtask' });
      const label = document.querySelector('[data-testid=inspector-token]');
      if (label) new MutationObserver(() => b.updates++).observe(label, { childList: true, characterData: true, subtree: true });
    })()`);
  const collect = () =>
    page.evaluate(`(() => {
      const b = window.__bench;
      b.stop = true;
      return { deltas: b.deltas.slice(1), long: b.long, updates: b.updates };
    })()`) as Promise<{ deltas: number[]; long: number[]; updates: number }>;
  const summarize = (name: string, r: { deltas: number[]; long: number[]; updates: number }, seconds: number) => {
    const d = [...r.deltas].sort((a, b) => a - b);
    const q = (p: number) => d[Math.min(d.length - 1, Math.floor(p * d.length))] ?? NaN;
    const over = (ms: number) => r.deltas.filter((x) => x > ms).length;
    console.log(
      `${name}: ${seconds.toFixed(1)} s, ${r.deltas.length} frames (${(r.deltas.length / seconds).toFixed(1)} fps), ` +
        `frame interval p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(d.at(-1) ?? NaN).toFixed(1)} ms; ` +
        `frames > 25 ms: ${over(25)}, > 50 ms: ${over(50)}; long tasks: ${r.long.length} (total ${r.long.reduce((a, b) => a + b, 0).toFixed(0)} ms)` +
        (name === 'generating' ? `; inspector label updates: ${r.updates}` : ''),
    );
  };

  // Main-thread time from Chromium's own counters: robust to other processes sharing the CPU
  // (which stretch frame intervals without the page doing more work).
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () =>
    Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])) as Record<string, number>;
  const busy = (a: Record<string, number>, b: Record<string, number>, seconds: number, updates?: number) => {
    const task = (b.TaskDuration - a.TaskDuration) * 1000;
    const script = (b.ScriptDuration - a.ScriptDuration) * 1000;
    const layout = (b.LayoutDuration - a.LayoutDuration + b.RecalcStyleDuration - a.RecalcStyleDuration) * 1000;
    return (
      `  main thread busy ${task.toFixed(0)} ms = ${(task / seconds / 10).toFixed(1)}% (script ${script.toFixed(0)} ms, style+layout ${layout.toFixed(0)} ms)` +
      (updates ? `; per inspector update ${(task / updates).toFixed(2)} ms` : '')
    );
  };

  await install();
  const m0 = await metrics();
  await page.waitForTimeout(3000);
  const m1 = await metrics();
  summarize('idle', await collect(), 3);
  console.log(busy(m0, m1, 3));

  // The model may end an answer early (EOS): keep asking until enough tokens were generated.
  await install();
  const m2 = await metrics();
  const t0 = Date.now();
  const prompts = ['Once upon a time', 'Tell me more.', 'And then?', 'Continue the story.'];
  let generated = 0;
  const lines: string[] = [];
  for (let i = 0; generated < tokens; i++) {
    if (i) await newChat();
    const composer = page.getByRole('textbox', { name: 'Message', exact: true });
    await composer.fill(prompts[i % prompts.length]);
    await composer.press('Enter');
    const stats = page.getByTestId('message-stats');
    await stats.waitFor({ timeout: 300_000 });
    const line = (await stats.textContent()) ?? '';
    lines.push(line);
    generated += Number(/(\d+) tokens/.exec(line)?.[1] ?? 0);
  }
  const seconds = (Date.now() - t0) / 1000;
  const result = await collect();
  const m3 = await metrics();
  console.log(`engine: ${engine}`);
  console.log(`${lines.length} answers, ${generated} tokens:\n  ${lines.join('\n  ')}`);
  summarize('generating', result, seconds);
  console.log(busy(m2, m3, seconds, result.updates));
  if (values.shots) console.log(`screenshot: ${await h.screenshot(`bench-${values.view}-${values.model ?? 'default'}`)}`);
  if (h.pageErrors.length) console.log(`page errors: ${h.pageErrors.join(' | ')}`);
} finally {
  await h.close();
  rmSync(data, { recursive: true, force: true });
}
