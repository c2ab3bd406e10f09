// `bitlens serve` / `npm run web`: start the browser host, print its URL, run until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startServer } from './server.js';
import { defaultDataDir } from './core/service.js';

export const SERVE_USAGE = 'bitlens serve [--port N] [--data-dir DIR] [--models-dir DIR] [--api-token TOKEN]';
const HELP = `usage: ${SERVE_USAGE}
  Serves the BitLens UI on http://127.0.0.1:PORT (default 5178; 0 = any free port) with the engine
  in its own process. --api-token (or BITLENS_API_TOKEN) turns on the OpenAI-compatible API
  (/v1/models, /v1/chat/completions) with that bearer token; it is off otherwise.`;

export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      'api-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = values.port === undefined ? 5178 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number (0-65535), not ${values.port}`);
  const apiToken = values['api-token'] ?? process.env.BITLENS_API_TOKEN;
  const server = await startServer({
    port,
    host: '127.0.0.1',
    dataDir: values['data-dir'] ?? defaultDataDir(),
    ...(values['models-dir'] !== undefined && { modelsDir: values['models-dir'] }),
    ...(apiToken && { apiToken }),
  });
  console.log(`BitLens is running at ${server.url}`);
  if (apiToken) console.log(`OpenAI-compatible API: ${server.url}v1 (bearer token required)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}
