#!/usr/bin/env node
// `npm run web`: the browser host on its own (same as `bitlens serve`).
import { serveCommand } from './serve-command.js';

serveCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bitlens serve: ${(error as Error).message}`);
    process.exit(1);
  },
);
