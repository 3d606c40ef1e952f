// The operator app's build: one static folder (renderer/dist) that the loopback web host and Electron both serve.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative asset paths: served from http://127.0.0.1:PORT/ and from Electron's app:// alike.
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // The strict CSP allows no inline scripts or styles: everything is a file.
    assetsInlineLimit: 0,
  },
});
