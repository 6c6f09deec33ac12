// Decoding a permalink fragment, treating it as hostile: the length is capped, the version checked,
// the inflate stopped at a size cap, and every failure ends in a one-line LinkError. Not the
// validation of the head and sections (read-run.ts) and not encoding (encode.ts).

import { Inflate } from 'fflate';
import { fromBase64Url } from './base64url';
import { ByteReader } from './binary';
import { MAX_INFLATED_BYTES, MAX_LINK_CHARS } from './caps';
import { LINK_PREFIX, LINK_VERSION, LinkError, type SharedRun } from './format';
import { rebuild } from './read-run';

/** The fragment's format version, or null when it holds no run; nothing is decoded. */
export function linkVersion(fragment: string): number | null {
  if (typeof fragment !== 'string' || !fragment.startsWith(LINK_PREFIX)) return null;
  const m = /^(\d{1,6})\./.exec(fragment.slice(LINK_PREFIX.length, LINK_PREFIX.length + 8));
  return m ? Number(m[1]) : null;
}

export function decodeRun(fragment: string): SharedRun {
  if (typeof fragment !== 'string') throw new LinkError('this link is damaged: no run data');
  if (fragment.length > MAX_LINK_CHARS) throw new LinkError(`this link is too long (${fragment.length} characters; at most ${MAX_LINK_CHARS})`);
  const hash = fragment.startsWith('#') ? fragment : `#${fragment}`;
  if (!hash.startsWith(LINK_PREFIX)) throw new LinkError('this link holds no DePass run');
  const rest = hash.slice(LINK_PREFIX.length);
  const dot = rest.indexOf('.');
  const version = dot < 0 ? NaN : Number(rest.slice(0, dot));
  if (!Number.isInteger(version) || version < 1) throw new LinkError('this link is damaged: no version');
  if (version > LINK_VERSION) throw new LinkError(`this link is from a newer version of DePass Studio (format ${version}; this app reads ${LINK_VERSION})`);
  const compressed = fromBase64Url(rest.slice(dot + 1));
  const container = inflateCapped(compressed);
  if (container.length < 4) throw new LinkError('this link is damaged: too short');
  const jsonLen = new DataView(container.buffer, container.byteOffset).getUint32(0, true);
  if (jsonLen > container.length - 4) throw new LinkError('this link is damaged: truncated');
  let headRaw: unknown;
  try {
    headRaw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(container.subarray(4, 4 + jsonLen)));
  } catch {
    throw new LinkError('this link is damaged: unreadable data');
  }
  const reader = new ByteReader(container.subarray(4 + jsonLen));
  try {
    const run = rebuild(headRaw, reader, version);
    if (reader.remaining() !== 0) throw new LinkError('this link is damaged: trailing data');
    return run;
  } catch (err) {
    if (err instanceof LinkError) throw err;
    throw new LinkError('this link is damaged');
  }
}

function inflateCapped(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > MAX_INFLATED_BYTES) throw new LinkError('this link is damaged: it expands beyond the allowed size');
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    const step = 4096;
    for (let i = 0; i < data.length; i += step) inflater.push(data.subarray(i, i + step), i + step >= data.length);
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof LinkError) throw err;
    throw new LinkError('this link is damaged: it does not decompress');
  }
  if (!ended) throw new LinkError('this link is damaged: truncated');
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
