// A local Hugging Face Hub for the browser tests: the Hub and its CDN host on two ports (large files
// cross origins as on the real Hub) over src/hub/testing/fake-hub.ts, serving the bundled demo
// model. Tests slow its bodies, cut its connections after some bytes and read every request.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { FakeHub, shardFiles } from '../src/hub/testing/fake-hub';
import { ROOT } from './fixtures';

/** How long a cut connection stalls before it ends. */
const STALL_MS = 1000;

export const GATED_TOKEN = 'hf_e2eGatedToken0123456789abcdefXYZ';

export interface Seen {
  host: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | null;
  ifRange: string | null;
  authorization: string | null;
  status: number;
  /** Body bytes written before the answer ended (or was cut). */
  sent: number;
}

export interface Cut {
  path: RegExp;
  after: number;
  times: number;
}

/** Resolves when the response can take more data, or is closed (a cancelled download). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function demoRepos(): ConstructorParameters<typeof FakeHub>[0] {
  const dir = resolve(ROOT, 'public/models/demo-llama');
  const files = Object.fromEntries(
    ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(resolve(dir, f)))]),
  );
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    { id: 'depass/demo-llama', files: { ...files, 'README.md': text('# demo-llama\n'), '.gitattributes': text('*.safetensors filter=lfs\n') } },
    { id: 'depass/demo-llama-sharded', files: shardFiles(files, 2) },
    { id: 'gated/demo-llama', files, gatedToken: GATED_TOKEN },
    { id: 'depass/only-bin', files: { 'config.json': files['config.json'], 'pytorch_model.bin': text('pt'), 'demo-llama.Q4_K_M.gguf': text('gguf') } },
  ];
}

export class MockHub {
  readonly hub: FakeHub;
  readonly seen: Seen[] = [];
  /** Connections to cut: the first `times` answers whose path matches stop after `after` body bytes. */
  readonly cuts: Cut[] = [];
  /** CDN bodies go out `chunk` bytes every `delayMs` when set (so progress can be watched). */
  throttle: { chunk: number; delayMs: number } | null = null;
  private servers: http.Server[] = [];

  constructor(
    readonly hubPort: number,
    readonly cdnPort: number,
  ) {
    this.hub = new FakeHub(demoRepos(), this.cdnOrigin);
  }

  get hubOrigin() {
    return `http://127.0.0.1:${this.hubPort}`;
  }
  get cdnOrigin() {
    return `http://127.0.0.1:${this.cdnPort}`;
  }

  /** Forgets what was seen and every cut and throttle. */
  reset() {
    this.seen.length = 0;
    this.cuts.length = 0;
    this.throttle = null;
  }

  async start(): Promise<void> {
    for (const [host, port] of [
      ['hub', this.hubPort],
      ['cdn', this.cdnPort],
    ] as const) {
      const server = http.createServer((req, res) => void this.handle(host, port, req, res));
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(port, '127.0.0.1', () => ok());
      });
      this.servers.push(server);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
    this.servers = [];
  }

  private async handle(host: 'hub' | 'cdn', port: number, req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const header = (name: string) => {
      const v = req.headers[name.toLowerCase()];
      return typeof v === 'string' ? v : null;
    };
    const a = this.hub.answer(host, { method: req.method ?? 'GET', url, header });
    const entry: Seen = {
      host,
      method: req.method ?? 'GET',
      path: url.pathname,
      range: header('Range'),
      ifRange: header('If-Range'),
      authorization: header('Authorization'),
      status: a.status,
      sent: 0,
    };
    if (entry.method !== 'OPTIONS') this.seen.push(entry);
    res.writeHead(a.status, a.headers);
    const body = a.body;
    if (!body || entry.method === 'HEAD' || entry.method === 'OPTIONS') return void res.end();
    const cut = this.cuts.find((c) => c.times > 0 && c.path.test(url.pathname));
    if (cut) cut.times--;
    const limit = cut ? Math.min(cut.after, body.length) : body.length;
    const step = host === 'cdn' && this.throttle ? this.throttle.chunk : 256 * 1024;
    while (entry.sent < limit) {
      if (res.destroyed) return;
      const n = Math.min(step, limit - entry.sent);
      const ok = res.write(body.subarray(entry.sent, entry.sent + n));
      entry.sent += n;
      if (!ok) await drained(res);
      if (host === 'cdn' && this.throttle) await new Promise((r) => setTimeout(r, this.throttle!.delayMs));
    }
    // A cut connection ends without the rest of the body: the browser sees the network fail. It
    // stalls first, so the page has read what arrived (a browser may drop bytes still unread when
    // the connection fails, and the test is about resuming from what the page has).
    if (cut) {
      await new Promise((r) => setTimeout(r, STALL_MS));
      res.socket?.end();
    } else res.end();
  }
}
