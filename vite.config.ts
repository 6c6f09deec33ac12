// Vite builds the app and the worker. A strict Content-Security-Policy lets the page reach only
// its own origin (the weights never leave the machine): sent as a header by the dev and preview
// servers, and written into the built index.html so any static host enforces it too.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

function csp(dev: boolean): string {
  return [
    "default-src 'self'",
    // The dev server's React refresh preamble is an inline script; built pages have none.
    dev ? "script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'" : "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    // Hot reload talks to the dev server over a websocket on the same host.
    dev ? "connect-src 'self' ws://localhost:* ws://127.0.0.1:*" : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Puts the production policy into the built index.html as a meta tag. */
function cspMeta(): Plugin {
  return {
    name: 'depass-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: csp(false) }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  plugins: [react(), cspMeta()],
  worker: { format: 'es' },
  server: { headers: { 'Content-Security-Policy': csp(true) }, fs: { allow: ['.'] } },
  preview: { headers: { 'Content-Security-Policy': csp(false) } },
  build: { target: 'es2022', sourcemap: true },
});
