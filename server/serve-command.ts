// `bitlens serve` / `npm run web`: start the browser host and print its URL.
import { parseArgs } from 'node:util';
import { startServer } from './server.js';
import { defaultDataDir } from './core/service.js';

const USAGE = `usage: bitlens serve [--port N] [--data-dir DIR] [--models-dir DIR] [--api-token TOKEN]
  Serves the BitLens UI on http://127.0.0.1:PORT (default 5178) with the engine in a child process.
  --api-token enables the OpenAI-compatible API (/v1/models, /v1/chat/completions) with that bearer
  token (also read from BITLENS_API_TOKEN).`;

export async function serveCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'models-dir': { type: 'string' },
        'api-token': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = values.port === undefined ? 5178 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, not ${values.port}\n${USAGE}`);
    return 2;
  }
  const server = await startServer({
    port,
    host: '127.0.0.1',
    dataDir: values['data-dir'] ?? defaultDataDir(),
    ...(values['models-dir'] !== undefined && { modelsDir: values['models-dir'] }),
    ...((values['api-token'] ?? process.env.BITLENS_API_TOKEN) && { apiToken: values['api-token'] ?? process.env.BITLENS_API_TOKEN }),
  });
  console.log(`BitLens is running at ${server.url}`);
  if (values['api-token'] ?? process.env.BITLENS_API_TOKEN) console.log(`OpenAI-compatible API: ${server.url}v1 (bearer token required)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
