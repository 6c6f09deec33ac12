// Opening a link without stalling the page: the fragment is decoded in a short-lived worker
// (inline, after the current task, where there are no workers), and the same fragment is never
// decoded twice in a row. Not the codec (permalink/) and not the UI.

import { MAX_LINK_CHARS } from './permalink/caps';
import { decodeRun } from './permalink/decode';
import { LINK_PREFIX, LinkError, type SharedRun } from './permalink/format';

export type DecodeReply = { ok: true; run: SharedRun } | { ok: false; message: string };

/** A link that takes longer than this to decode is given up on (the caps make it unlikely). */
const TIMEOUT_MS = 20_000;

export function isRunFragment(hash: string): boolean {
  return hash.startsWith(LINK_PREFIX);
}

function inWorker(fragment: string): Promise<SharedRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: 'depass-link' });
    const done = () => {
      clearTimeout(timer);
      worker.terminate();
    };
    const timer = setTimeout(() => {
      done();
      reject(new LinkError('this link took too long to open'));
    }, TIMEOUT_MS);
    worker.onmessage = (e: MessageEvent<DecodeReply>) => {
      done();
      if (e.data.ok) resolve(e.data.run);
      else reject(new LinkError(e.data.message));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      done();
      // A worker that cannot start (blocked by policy) still leaves the inline decoder.
      inline(fragment).then(resolve, reject);
    };
    worker.postMessage(fragment);
  });
}

function inline(fragment: string): Promise<SharedRun> {
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(decodeRun(fragment));
      } catch (err) {
        reject(err instanceof LinkError ? err : new LinkError('this link is damaged'));
      }
    }, 0);
  });
}

let last: { fragment: string; result: Promise<SharedRun> } | null = null;

/**
 * The run in a fragment ("#run=…"), decoded once: asking again for the same fragment returns the
 * same promise. Over-long fragments are refused here, before they are copied anywhere.
 */
export function openFragment(fragment: string): Promise<SharedRun> {
  if (last && last.fragment === fragment) return last.result;
  const result =
    fragment.length > MAX_LINK_CHARS
      ? Promise.reject(new LinkError(`this link is too long (${fragment.length} characters; at most ${MAX_LINK_CHARS})`))
      : typeof Worker === 'function'
        ? inWorker(fragment)
        : inline(fragment);
  last = { fragment, result };
  // Callers handle the rejection; this only keeps an unobserved one from being reported twice.
  result.catch(() => undefined);
  return result;
}
