// Vite builds the app and the worker. A strict Content-Security-Policy lets the page reach only
// its own origin, plus the Hugging Face Hub for downloads the user asks for (the weights never
// leave the machine): sent as a header by the dev and preview servers, and written into the built
// index.html so any static host enforces it too.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/** The Hub and the hosts it redirects file downloads to (its CDNs): reachable by fetch only. */
export const HUB_HOSTS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

/**
 * The Hub a build talks to. Normal builds: huggingface.co. A test build made with DEPASS_HUB_URL
 * (and DEPASS_HUB_HOSTS, its CDN stand-in) talks to a local stand-in instead, and its policy
 * allows only those hosts. Build time only: no address or link can change it in a built app.
 */
function hubSetup(env: NodeJS.ProcessEnv): { url: string; hosts: string[] } {
  const url = env.DEPASS_HUB_URL ?? '';
  if (!url) return { url: '', hosts: HUB_HOSTS };
  const origin = (u: string) => {
    const o = new URL(u);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') throw new Error(`DEPASS_HUB_URL/DEPASS_HUB_HOSTS: ${u} is not an http(s) address`);
    return o.origin;
  };
  const extra = (env.DEPASS_HUB_HOSTS ?? '').split(/\s+/).filter(Boolean).map(origin);
  return { url: origin(url), hosts: [origin(url), ...extra] };
}

const hub = hubSetup(process.env);

export function csp(dev: boolean, hubHosts: string[] = hub.hosts): string {
  return [
    "default-src 'self'",
    // The dev server's React refresh preamble is an inline script; built pages have none.
    dev ? "script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'" : "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    // Hot reload talks to the dev server over a websocket on the same host.
    `connect-src 'self' ${hubHosts.join(' ')}${dev ? ' ws://localhost:* ws://127.0.0.1:*' : ''}`,
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
  define: { __DEPASS_HUB_URL__: JSON.stringify(hub.url) },
  worker: { format: 'es' },
  server: { headers: { 'Content-Security-Policy': csp(true) }, fs: { allow: ['.'] } },
  preview: { headers: { 'Content-Security-Policy': csp(false) } },
  build: { target: 'es2022', sourcemap: true },
});
