// Vite builds the app and the worker. A strict Content-Security-Policy lets the page reach only
// its own origin (the weights never leave the machine) and forbids framing. The dev and preview
// servers send it as a header, which also binds the workers and carries frame-ancestors. The
// built index.html holds it as a meta tag too, so any static host enforces it on the page; a meta
// tag can carry neither frame-ancestors nor the workers' policy, so the build also writes a
// `_headers` file (the header, for hosts that read one) and the app refuses to run framed.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

function csp(dev: boolean, header: boolean): string {
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
    // No other page may frame the app (clickjacking); browsers ignore this directive in a meta tag.
    ...(header ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

/** Puts the production policy into the built index.html as a meta tag, and the header into _headers. */
function cspMeta(): Plugin {
  return {
    name: 'depass-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: csp(false, false) }, injectTo: 'head-prepend' }],
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: '_headers',
        source: `/*\n  Content-Security-Policy: ${csp(false, true)}\n  X-Frame-Options: DENY\n`,
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), cspMeta()],
  worker: { format: 'es' },
  server: { headers: { 'Content-Security-Policy': csp(true, true) }, fs: { allow: ['.'] } },
  preview: { headers: { 'Content-Security-Policy': csp(false, true) } },
  build: { target: 'es2022', sourcemap: true },
});
