// The browser host: the built renderer over HTTP and the contract over a WebSocket, both on the
// loopback interface only, with the engine in its own process. The optional OpenAI-compatible API
// shares the port (off unless apiToken is given).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  BitLensError,
  ClientEnvelopeSchema,
  WS_PATH,
  decodeWire,
  encodeWire,
  formatIssues,
  toRequestError,
  type EventName,
  type EventPayload,
} from '../contract/index.js';
import { AppService } from './core/service.js';
import type { EngineFactory } from './core/engine-host.js';
import { childProcessEngineFactory } from './core/process-engine.js';
import { createOpenAIHandler } from './openai-api.js';
import { contentSecurityPolicy, serveStatic } from './static-files.js';
import { defaultModelsDir, defaultRendererDir } from './paths.js';

export interface ServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: '127.0.0.1' | '::1' | 'localhost';
  dataDir: string;
  /** Folder of embedded models (default: assets/models). */
  modelsDir?: string;
  /** Built renderer (default: dist/renderer). */
  rendererDir?: string;
  /** Enables the OpenAI-compatible API under /v1 with this bearer token. */
  apiToken?: string;
  engineFactory?: EngineFactory;
  /** Load the active model at start (default true). */
  loadDefaultModel?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  service: AppService;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the browser host only listens on the loopback interface, not ${host}`);
  const sockets = new Set<WebSocket>();
  const broadcast = <K extends EventName>(name: K, payload: EventPayload<K>) => {
    if (sockets.size === 0) return;
    const text = encodeWire({ type: 'event', name, payload });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(text);
  };
  const service = await AppService.create({
    dataDir: opts.dataDir,
    modelsDir: opts.modelsDir ?? defaultModelsDir(),
    engineFactory: opts.engineFactory ?? childProcessEngineFactory(),
    emit: broadcast,
  });
  const rendererDir = opts.rendererDir ?? defaultRendererDir();
  const openai = opts.apiToken ? createOpenAIHandler({ service, token: opts.apiToken }) : null;

  let port = 0;
  // DNS rebinding: only requests addressed to the loopback host itself are served.
  const allowedHost = (req: IncomingMessage) => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
  };

  const http: Server = createServer((req, res) => {
    void (async () => {
      if (!allowedHost(req)) {
        res.writeHead(421, { 'Content-Type': 'text/plain' }).end('misdirected request');
        return;
      }
      if (openai && (await openai(req, res))) return;
      if (req.url?.startsWith('/v1/')) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({ error: { message: 'the local API is off (start with --api-token)', type: 'invalid_request_error', param: null, code: 'api_disabled' } }),
        );
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed');
        return;
      }
      await serveStatic(rendererDir, new URL(req.url ?? '/', 'http://x').pathname, res, contentSecurityPolicy(`'self' ws://${req.headers.host}`));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String((error as Error).message));
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4 * 1024 * 1024,
  });
  http.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    // Browsers always send Origin: only the app's own pages may connect. Non-browser clients
    // (tests, scripts on this machine) send none.
    const originOk = origin === undefined || origin === `http://${req.headers.host}`;
    if (new URL(req.url ?? '/', 'http://x').pathname !== WS_PATH || !allowedHost(req) || !originOk) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.send(encodeWire({ type: 'event', name: 'engine.status', payload: service.engine.status }));
    for (const p of service.startupProblems) ws.send(encodeWire({ type: 'event', name: 'store.error', payload: p }));
    ws.on('message', (data, isBinary) => {
      void (async () => {
        let id = -1;
        try {
          if (isBinary) throw new BitLensError('invalid_request', 'binary messages are not part of the protocol (see contract/wire.ts)');
          let envelope;
          try {
            const parsed = ClientEnvelopeSchema.safeParse(decodeWire(data.toString()));
            if (!parsed.success) throw new Error(formatIssues('message', parsed.error));
            envelope = parsed.data;
          } catch (error) {
            ws.send(encodeWire({ type: 'response', id, ok: false, error: { code: 'invalid_request', message: (error as Error).message } }));
            return;
          }
          id = envelope.id;
          const result = await service.handle(envelope.name, envelope.params);
          ws.send(encodeWire({ type: 'response', id, ok: true, result }));
        } catch (error) {
          ws.send(encodeWire({ type: 'response', id, ok: false, error: toRequestError(error) }));
        }
      })();
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, host, () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  if (opts.loadDefaultModel !== false) void service.startDefaultModel();

  return {
    url: `http://${urlHost}:${port}/`,
    port,
    service,
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await service.close();
    },
  };
}
