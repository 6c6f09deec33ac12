// A fetch over the FakeHub for unit tests: follows redirects as browsers do (dropping the
// Authorization header when the host changes), streams bodies in small chunks, and can drop a
// connection after some bytes or be offline. Every request is logged. Not used by the app.

import type { FakeHub } from './fake-hub';

export interface LoggedRequest {
  host: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | null;
  ifRange: string | null;
  authorization: string | null;
  status: number;
}

export interface Drop {
  /** Which requests' bodies (path match). */
  path: RegExp;
  /** Bytes sent before the connection drops. */
  after: number;
  /** How many responses are dropped this way. */
  times: number;
}

export interface FakeNet {
  fetch: typeof fetch;
  log: LoggedRequest[];
  drops: Drop[];
  /** While true, every request fails as with no network. */
  offline: boolean;
  /** Answers for these paths come without Content-Length, as a compressed (chunked) answer does. */
  chunked: RegExp | null;
}

const CHUNK = 16 * 1024;

export function fakeFetch(hub: FakeHub, hubOrigin: string): FakeNet {
  const net: FakeNet = { fetch: undefined as unknown as typeof fetch, log: [], drops: [], offline: false, chunked: null };
  net.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    let url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const signal = init?.signal ?? undefined;
    const method = init?.method ?? 'GET';
    for (let hop = 0; hop < 5; hop++) {
      if (signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
      const host = url.origin === hubOrigin ? 'hub' : url.origin === hub.cdnOrigin ? 'cdn' : null;
      if (net.offline || !host) throw new TypeError('fetch failed');
      const a = hub.answer(host, { method, url, header: (n) => headers.get(n) });
      net.log.push({
        host,
        method,
        path: url.pathname,
        range: headers.get('Range'),
        ifRange: headers.get('If-Range'),
        authorization: headers.get('Authorization'),
        status: a.status,
      });
      if (a.status === 302) {
        const next = new URL(a.headers.Location);
        if (next.origin !== url.origin) headers.delete('Authorization');
        url = next;
        continue;
      }
      const drop = net.drops.find((d) => d.times > 0 && d.path.test(url.pathname));
      if (drop) drop.times--;
      const bytes = a.body;
      let sent = 0;
      const body =
        bytes && a.status !== 204
          ? new ReadableStream<Uint8Array>({
              pull(controller) {
                if (signal?.aborted) return controller.error(new DOMException('The operation was aborted.', 'AbortError'));
                if (drop && sent >= drop.after) return controller.error(new TypeError('network error'));
                const limit = drop ? Math.min(bytes.length, drop.after) : bytes.length;
                if (sent >= bytes.length) return controller.close();
                const n = Math.min(CHUNK, limit - sent);
                controller.enqueue(bytes.slice(sent, sent + n));
                sent += n;
              },
            })
          : null;
      const answered = { ...a.headers };
      if (net.chunked?.test(url.pathname)) delete answered['Content-Length'];
      return new Response(body, { status: a.status, headers: answered });
    }
    throw new TypeError('too many redirects');
  }) as typeof fetch;
  return net;
}
