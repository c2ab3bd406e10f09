// app://bitlens/ — how the renderer is served in Electron (not file://): a standard, secure scheme
// whose requests map onto files inside dist/renderer only, each with the strict CSP.
import { promises as fs } from 'node:fs';
import { contentSecurityPolicy, contentType, resolveStaticPath } from '../server/static-files.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'bitlens';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** Electron's renderer talks to the host over IPC only: no network at all. */
export const ELECTRON_CSP = contentSecurityPolicy("'none'");

export interface AppResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** Answer one app:// request from `rendererDir`; anything else (other hosts, traversal) is refused. */
export async function resolveAppRequest(rendererDir: string, url: string): Promise<AppResponse> {
  const headers = { 'Content-Security-Policy': ELECTRON_CSP, 'X-Content-Type-Options': 'nosniff' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { status: 400, headers, body: 'bad url' };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return { status: 403, headers, body: 'forbidden' };
  const file = resolveStaticPath(rendererDir, parsed.pathname);
  if (!file) return { status: 400, headers, body: 'bad path' };
  try {
    const body = await fs.readFile(file);
    return { status: 200, headers: { ...headers, 'Content-Type': contentType(file) }, body: new Uint8Array(body) };
  } catch {
    return { status: 404, headers, body: 'not found' };
  }
}

/** In-app navigation stays on app://bitlens; everything else is blocked (links open nowhere). */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url);
}

/** Whether `url` is on app://bitlens (compared by parts: Node's URL gives custom schemes a null origin). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}
