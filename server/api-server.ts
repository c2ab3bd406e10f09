// The OpenAI-compatible API on its own loopback port (the Electron app has no other HTTP server).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAIHandler } from './openai-api.js';
import type { AppService } from './core/service.js';

export async function startApiServer(opts: { service: AppService; port: number; token: string }): Promise<{ url: string; close(): Promise<void> }> {
  const handle = createOpenAIHandler({ service: opts.service, token: opts.token });
  const http = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
