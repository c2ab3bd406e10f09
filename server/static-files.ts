// Serving the built renderer (dist/renderer) safely: only files inside the folder, known types,
// a strict Content-Security-Policy on every response.
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** The page may talk only to its own origin (the WebSocket included); no remote content. */
export function contentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // No inline <style> or style="" strings: React's style props (set through the CSSOM) still work.
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * Map a URL path onto a file inside `root`, or null when it would leave `root` (also used by the
 * Electron protocol handler). "/" and unknown extension-less paths fall back to index.html.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split(/[?#]/)[0]!);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const resolved = path.resolve(root, relative);
  const rootResolved = path.resolve(root);
  if (resolved !== rootResolved && !resolved.startsWith(rootResolved + path.sep)) return null;
  return resolved;
}

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export async function serveStatic(root: string, urlPath: string, res: ServerResponse, csp: string): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('Referrer-Policy', 'no-referrer');
  const file = resolveStaticPath(root, urlPath);
  if (!file) {
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad path');
    return;
  }
  let target = file;
  let body: Buffer;
  try {
    body = await fs.readFile(target);
  } catch {
    // Browsers ask for /favicon.ico on their own: no icon is not an error.
    if (urlPath === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    // Client-side routes (no extension) get the app; missing assets get 404.
    if (path.extname(file) !== '') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    target = path.join(root, 'index.html');
    try {
      body = await fs.readFile(target);
    } catch {
      res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(`The renderer is not built (${target} is missing): run npm run build.`);
      return;
    }
  }
  res.writeHead(200, { 'Content-Type': contentType(target), 'Cache-Control': 'no-cache' }).end(body);
}
