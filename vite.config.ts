// Vite builds the app and the worker. Headers: a strict Content-Security-Policy so that nothing
// the page does can reach another origin (the weights never leave the machine).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const csp = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws://localhost:* ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  server: { headers: { 'Content-Security-Policy': csp }, fs: { allow: ['.'] } },
  preview: { headers: { 'Content-Security-Policy': csp } },
  build: { target: 'es2022', sourcemap: true },
});
