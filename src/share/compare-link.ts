// A comparison as a link: the first run's fragment as it always was ("#run=2.…"), then the second
// run's, written by the same codec, after a separate key ("&vs=2.…"). A link without the key is
// a single run and decodes exactly as before; each part is held to the codec's caps, and the whole
// fragment to the same length cap as a single run's. Not the codec (permalink/).

import { MAX_LINK_CHARS } from './permalink/caps';
import { decodeRun } from './permalink/decode';
import { LINK_PREFIX, LinkError, type SharedRun } from './permalink/format';

/** The key that starts the second run's part of a comparison's fragment. */
export const COMPARE_KEY = '&vs=';

/** The fragment's parts, each as a single run's fragment ("#run=…"); `second` is null for a single run. */
export function splitLink(fragment: string): { first: string; second: string | null } {
  const at = fragment.indexOf(COMPARE_KEY);
  if (at < 0) return { first: fragment, second: null };
  return { first: fragment.slice(0, at), second: LINK_PREFIX + fragment.slice(at + COMPARE_KEY.length) };
}

/** One fragment holding both runs, from two single runs' fragments. */
export function joinLink(first: string, second: string): string {
  if (!first.startsWith(LINK_PREFIX) || !second.startsWith(LINK_PREFIX)) throw new Error('joinLink takes two run fragments (#run=…)');
  return first + COMPARE_KEY + second.slice(LINK_PREFIX.length);
}

export interface DecodedLink {
  run: SharedRun;
  /** The compared run of a comparison, else null. */
  second: SharedRun | null;
}

/** The second run must be of the same model: the views subtract one run's numbers from the other's. */
export function checkPair(run: SharedRun, second: SharedRun | null): DecodedLink {
  if (second && second.result.model.fingerprint !== run.result.model.fingerprint) throw new LinkError('this comparison’s two runs come from different models');
  return { run, second };
}

/** Decodes a single run's or a comparison's fragment on this thread. */
export function decodeLink(fragment: string): DecodedLink {
  if (typeof fragment === 'string' && fragment.length > MAX_LINK_CHARS)
    throw new LinkError(`this link is too long (${fragment.length} characters; at most ${MAX_LINK_CHARS})`);
  const { first, second } = splitLink(fragment);
  return checkPair(decodeRun(first), second === null ? null : decodeRun(second));
}
