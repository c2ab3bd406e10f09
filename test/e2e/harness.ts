// End-to-end harness: the real browser host (server/) on a free loopback port with the given
// models and data folders, and Debian's Chromium driven by playwright-core with a fresh profile.
//   const h = await startHarness({ modelsDir, dataDir });
//   await h.page.goto(h.url); ...; await h.screenshot('chat'); await h.close();
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/server.js';
import { packageRoot } from '../../server/paths.js';

export const CHROMIUM = process.env.BITLENS_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface HarnessOptions {
  modelsDir: string;
  dataDir: string;
  /** Built renderer (default dist/renderer, built first if missing). */
  rendererDir?: string;
  /** Enable the OpenAI-compatible API with this token. */
  apiToken?: string;
  viewport?: { width: number; height: number };
}

export interface Harness {
  page: Page;
  /** The app's URL (http://127.0.0.1:PORT/); the page is already there. */
  url: string;
  server: RunningServer;
  context: BrowserContext;
  /** Console errors and uncaught exceptions of the page so far. */
  pageErrors: string[];
  /** Save a PNG under test-results/e2e/ (git-ignored); returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Build the renderer once if dist/renderer is missing (CI builds it in `npm install`'s prepare). */
export function ensureRendererBuilt(rendererDir = path.join(packageRoot(), 'dist', 'renderer')): string {
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    execFileSync(process.execPath, [path.join(packageRoot(), 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
      cwd: packageRoot(),
      stdio: 'inherit',
    });
  }
  return rendererDir;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set BITLENS_CHROMIUM)`);
  const rendererDir = opts.rendererDir ?? ensureRendererBuilt();
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: opts.dataDir,
    modelsDir: opts.modelsDir,
    rendererDir,
    ...(opts.apiToken && { apiToken: opts.apiToken }),
  });
  const profile = mkdtempSync(path.join(os.tmpdir(), 'bitlens-chromium-'));
  let context: BrowserContext;
  try {
    // launchPersistentContext is how Playwright takes --user-data-dir (a fresh one per run).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1400, height: 900 },
    });
  } catch (error) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  const shots = path.join(packageRoot(), 'test-results', 'e2e');
  return {
    page,
    url: server.url,
    server,
    context,
    pageErrors,
    async screenshot(name) {
      mkdirSync(shots, { recursive: true });
      const file = path.join(shots, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
