import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// Dev-only: where `vite` (dev server) forwards API calls. Production serves the SPA from the API origin.
const devApiTarget = process.env['HAVEN_DEV_API'] ?? 'http://127.0.0.1:8080';

/**
 * The upload relay's document (from the API, through the proxy below) names its script by the
 * fixed path the build gives it; in development that path is the module's source.
 */
function uploadRelayInDevelopment(): Plugin {
  return {
    name: 'haven-upload-relay-dev',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((request, _response, next) => {
        if (request.url === '/assets/upload-relay.js') {
          request.url = '/src/features/files/uploadRelayFrame.ts';
        }
        next();
      });
    },
  };
}

// The built SPA is served by the Haven server under a strict CSP (script-src/style-src 'self',
// no inline code, default-src 'self' so no data: fonts). Everything below keeps the output
// free of inline scripts/styles and inlined assets.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), uploadRelayInDevelopment()],
  resolve: {
    // The API contract: the server's answer schemas, decoded in the browser as the server wrote them.
    alias: {
      '@haven/contract': path.join(import.meta.dirname, '../server/src/contract.ts'),
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The polyfill would be an inline <script> in index.html; CSP blocks it.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs (fonts fall under default-src 'self', which forbids data:).
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    // The password-strength dictionaries (zxcvbn-ts, ~1.6 MB) are a lazy chunk loaded only on
    // pages that set a password; the main bundle stays small.
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // The upload relay's script (the hidden frame that PUTs parts to an owned bucket, served
      // by server/src/modules/files/buckets/upload-relay.ts) is a second entry with a fixed name,
      // since the server's relay document names it.
      input: {
        index: `${import.meta.dirname}/index.html`,
        'upload-relay': `${import.meta.dirname}/src/features/files/uploadRelayFrame.ts`,
      },
      output: {
        entryFileNames: (chunk: { name: string }) =>
          chunk.name === 'upload-relay' ? 'assets/upload-relay.js' : 'assets/[name]-[hash].js',
      },
    },
  },
  server: {
    proxy: {
      '/healthz': devApiTarget,
      '/readyz': devApiTarget,
      '/api': devApiTarget,
    },
  },
});
