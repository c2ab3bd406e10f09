// Vite build of the renderer. Relative base so the same build works under Electron's custom
// protocol and over http from the browser host; output next to the compiled TypeScript in dist/.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Keep every asset a file: a strict CSP (no data: scripts/styles) must not block anything.
    assetsInlineLimit: 0,
    // One local bundle (React, recharts, zod): loaded from disk, never over a network.
    chunkSizeWarningLimit: 1500,
  },
});
