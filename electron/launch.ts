// `npm start`: run the app in Electron; where Electron's binary is missing (it cannot be
// downloaded on some machines), say so and serve the same UI from the browser host instead.
import { spawn } from 'node:child_process';
import { packageRoot } from '../server/paths.js';
import { serve } from '../server/serve-command.js';
import { electronBinary } from './electron-binary.js';

async function main(): Promise<number> {
  const root = packageRoot();
  const binary = electronBinary(root);
  if (!binary) {
    console.log(
      "Electron's binary is not installed (node_modules/electron/dist is missing; it may not be downloadable here).\n" +
        'Starting the browser host instead: open the URL below in a browser.',
    );
    await serve(process.argv.slice(2));
    return 0;
  }
  const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bitlens: ${(error as Error).message}`);
    process.exit(1);
  },
);
