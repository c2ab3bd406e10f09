#!/usr/bin/env node
// `npm run web`: the browser host on its own (same as `bitlens serve`).
import { serve } from './serve-command.js';

serve(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bitlens serve: ${(error as Error).message}`);
    process.exit(1);
  },
);
