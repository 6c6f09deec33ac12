// Opening a link that may hold a comparison: each run's part is decoded off the page's thread as a
// single link is (decode.ts), then the pair is checked. Not the codec and not the UI.

import { checkPair, splitLink, type DecodedLink } from './compare-link';
import { openFragment } from './decode';
import { MAX_LINK_CHARS } from './permalink/caps';
import { LinkError } from './permalink/format';

export async function openLink(fragment: string): Promise<DecodedLink> {
  if (fragment.length > MAX_LINK_CHARS) throw new LinkError(`this link is too long (${fragment.length} characters; at most ${MAX_LINK_CHARS})`);
  const { first, second } = splitLink(fragment);
  const [run, other] = await Promise.all([openFragment(first), second === null ? null : openFragment(second)]);
  return checkPair(run, other);
}
