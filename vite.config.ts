// Vite builds the app and the worker. A strict Content-Security-Policy lets the page reach only
// its own origin, plus the Hugging Face Hub for downloads the user asks for (the weights never
// leave the machine), and forbids framing. The dev and preview servers send it as a header, which
// also binds the workers and carries frame-ancestors. The built index.html holds it as a meta tag
// too, so any static host enforces it on the page; a meta tag can carry neither frame-ancestors
// nor the workers' policy, so the build also writes a `_headers` file (the header, for hosts that
// read one) and the app refuses to run framed. Every build also makes the report viewer
// (vite.report.config.ts) and serves it beside index.html for Export report.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, defineConfig, type Plugin } from 'vite';
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

/** The policy; `header`: as sent by a server, with the directive a meta tag cannot carry. */
export function csp(dev: boolean, hubHosts: string[] = hub.hosts, header = true): string {
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
    // No other page may frame the app (clickjacking); browsers ignore this directive in a meta tag.
    ...(header ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

/** Puts the production policy into the built index.html as a meta tag, and the header into _headers. */
function cspMeta(): Plugin {
  return {
    name: 'depass-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: csp(false, hub.hosts, false) }, injectTo: 'head-prepend' },
    ],
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: '_headers',
        source: `/*\n  Content-Security-Policy: ${csp(false)}\n  X-Frame-Options: DENY\n`,
      });
    },
  };
}

const REPORT_TEMPLATE = 'report-template.html';

async function buildReportViewer(): Promise<string> {
  const root = import.meta.dirname;
  await build({ configFile: resolve(root, 'vite.report.config.ts'), logLevel: 'warn' });
  return readFileSync(resolve(root, 'build/report', REPORT_TEMPLATE), 'utf8');
}

/** The report viewer beside index.html: built with the app, and made afresh on each dev request. */
function reportViewer(): Plugin {
  let template = '';
  return {
    name: 'depass-report-viewer',
    async buildStart() {
      if (this.environment.config.command === 'build') template = await buildReportViewer();
    },
    generateBundle() {
      if (template) this.emitFile({ type: 'asset', fileName: REPORT_TEMPLATE, source: template });
    },
    configureServer(server) {
      server.middlewares.use(`/${REPORT_TEMPLATE}`, (_req, res, next) => {
        buildReportViewer().then((html) => {
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          res.end(html);
        }, next);
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), cspMeta(), reportViewer()],
  define: { __DEPASS_HUB_URL__: JSON.stringify(hub.url) },
  worker: { format: 'es' },
  server: { headers: { 'Content-Security-Policy': csp(true) }, fs: { allow: ['.'] } },
  preview: { headers: { 'Content-Security-Policy': csp(false) } },
  build: { target: 'es2022', sourcemap: true },
});
