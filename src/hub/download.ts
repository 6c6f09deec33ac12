// One file from the Hub into the browser's private file system, streamed (a few MiB in memory at a
// time), resumed with range requests when the connection drops: by itself a few times, then from
// what was kept on disk when Download is pressed again. Not which files a model needs (listing.ts).

import type { DirHandleLike, FileHandleLike, WritableLike } from '../share/remembered';
import { httpError, HubError, isAbort, isNetworkError, isQuotaError, type HubAsk } from './errors';
import { authHeaders, type HubAccess } from './listing';

/** Bytes gathered before each write to disk: fewer, larger writes, bounded memory. */
const WRITE_CHUNK = 4 << 20;

export interface RetryPolicy {
  /** Attempts after a dropped connection without any progress in between. */
  attempts: number;
  /** Wait before the first retry; doubled each time. */
  delayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, delayMs: 500 };

export interface FileJob {
  access: HubAccess;
  url: string;
  /** Expected size from the listing. */
  size: number;
  dir: DirHandleLike;
  name: string;
  token: string | undefined;
  signal: AbortSignal;
  ask: HubAsk;
  retry?: RetryPolicy;
  /** Bytes of this file now on hand (kept from before, or received); may go back to 0. */
  onBytes: (have: number) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new HubError('cancelled', 'cancelled'));
      },
      { once: true },
    );
  });

/** The first byte of a 206 answer's Content-Range ("bytes 100-199/200"), or null when unreadable. */
function rangeStart(res: Response): number | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('Content-Range') ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Downloads `job.url` into `job.dir/job.name` and returns the handle once the file holds exactly
 * `job.size` bytes. A file already there is continued from its size (`Range: bytes=N-`); one of
 * the right size is taken as done (files are fetched by commit hash, so they cannot change).
 */
export async function downloadFile(job: FileJob): Promise<FileHandleLike> {
  const { size, signal } = job;
  const retry = job.retry ?? DEFAULT_RETRY;
  const handle = await job.dir.getFileHandle(job.name, { create: true });
  let kept = (await handle.getFile()).size;
  if (kept === size) {
    job.onBytes(size);
    return handle;
  }
  if (kept > size) kept = 0;
  const w = await handle.createWritable({ keepExistingData: kept > 0 });
  let written = kept;
  await w.truncate(written);
  await w.seek(written);
  job.onBytes(written);

  let etag: string | null = null;
  // Bytes can be asked for from an offset only when they are the file's own bytes: a compressed
  // answer (Content-Encoding, which a page cannot read) counts other bytes. A 206, or a 200 whose
  // length is the file's size, says they are.
  let resumable = true;
  let failures = 0;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const block = new Uint8Array(pendingBytes);
    let o = 0;
    for (const p of pending) {
      block.set(p, o);
      o += p.length;
    }
    pending.length = 0;
    pendingBytes = 0;
    await w.write(block);
    written += block.length;
  };

  try {
    for (;;) {
      const before = written;
      try {
        const headers: Record<string, string> = { ...authHeaders(job.token) };
        if (written > 0) {
          headers['Range'] = `bytes=${written}-`;
          if (etag) headers['If-Range'] = etag;
        }
        const res = await job.access.fetch(job.url, { headers, signal, cache: 'no-store' });
        if (res.status === 200 && written > 0) {
          // The server sent the whole file again (no range support, or the file changed): start over.
          await w.truncate(0);
          await w.seek(0);
          written = 0;
          job.onBytes(0);
        } else if (res.status === 206) {
          const start = rangeStart(res);
          if (start !== null && start !== written) throw new HubError('damaged', `the Hub continued ${job.ask.file} at byte ${start}, not ${written}`);
        } else if (!res.ok) {
          throw httpError(res.status, res.headers.get('X-Error-Code'), { ...job.ask, withToken: !!job.token });
        }
        etag = res.headers.get('ETag') ?? etag;
        const length = res.headers.get('Content-Length');
        resumable = res.status === 206 || (length !== null && Number(length) === size);
        if (!res.body) throw new HubError('damaged', `the Hub sent no data for ${job.ask.file}`);
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            pending.push(value);
            pendingBytes += value.length;
            job.onBytes(written + pendingBytes);
            if (written + pendingBytes > size) throw new HubError('damaged', `${job.ask.file} is larger than the Hub's file list says (${size} bytes)`);
            if (pendingBytes >= WRITE_CHUNK) await flush();
          }
        } finally {
          reader.releaseLock();
        }
        await flush();
        // A body that ended early is a dropped connection like any other.
        if (written < size) throw new TypeError('the connection closed before the end of the file');
        await w.close();
        return handle;
      } catch (e) {
        if (signal.aborted || isAbort(e)) throw new HubError('cancelled', 'cancelled');
        if (e instanceof HubError) throw e;
        if (isQuotaError(e)) throw e;
        if (!isNetworkError(e)) throw e;
        // What did arrive is good: keep it, and ask for the rest (or start again when the answer
        // was not the file's own bytes).
        await flush();
        failures = resumable && written > before ? 1 : failures + 1;
        if (!resumable) {
          await w.truncate(0);
          await w.seek(0);
          written = 0;
          job.onBytes(0);
        }
        if (failures > retry.attempts) throw new DroppedError(written);
        await sleep(retry.delayMs * 2 ** (failures - 1), signal);
      }
    }
  } catch (e) {
    await finish(w, e, written);
    if (e instanceof DroppedError) {
      throw new HubError('network', `the connection to the Hub was lost during ${job.ask.file}`);
    }
    if (isQuotaError(e)) throw new HubError('quota', `not enough storage space for ${job.ask.file}`);
    if (e instanceof HubError) throw e;
    throw e;
  }
}

class DroppedError extends Error {
  constructor(readonly written: number) {
    super('dropped');
  }
}

/**
 * After a failure: a dropped connection keeps what arrived (closing the writable commits it, so
 * the next attempt continues from there); anything else throws the partial copy away.
 */
async function finish(w: WritableLike, e: unknown, written: number): Promise<void> {
  if (e instanceof DroppedError && written > 0) {
    await w.close().catch(() => w.abort().catch(() => undefined));
    return;
  }
  await w.abort().catch(() => undefined);
}
