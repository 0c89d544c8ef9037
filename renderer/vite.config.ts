// The renderer's build: `npx vite build --config renderer/vite.config.ts` → dist/renderer
// (served by the host: `npm run web`, and loaded from disk by the desktop app).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** A folder next to this file, as a path (no Node built-ins here: the renderer's lint forbids them). */
function here(rel: string): string {
  const p = decodeURIComponent(new URL(rel, import.meta.url).pathname);
  // file:///C:/x → /C:/x on Windows
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

export default defineConfig({
  root: here('.'),
  // relative asset URLs: the desktop app loads index.html from a file:// URL
  base: './',
  plugins: [react()],
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
});
