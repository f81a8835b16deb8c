import { defineConfig } from 'vite';

// Built with `vite build web`: the root is this folder. JSX is compiled by Vite's own esbuild step,
// so preact needs no plugin.
export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true }, '/auth': 'http://127.0.0.1:4000' } },
});
