// What the user types into the Hub field, made into a repository id and a revision: `owner/name`,
// `owner/name@revision`, or a model page's address (…/owner/name, …/tree/<rev>, …/blob/<rev>/file).
// Pure string work: nothing is fetched here, and nothing from a link is trusted without it.

import { HubError } from './errors';

export interface RepoRef {
  /** "owner/name" (or a legacy one-part id such as "gpt2"). */
  id: string;
  /** Branch, tag or commit; null means the default branch. */
  revision: string | null;
}

/** The Hub's naming rule for each part of an id: letters, digits, '-', '_', '.', at most 96. */
const PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$/;
/** A branch, tag or commit name (refs/pr/1 included); no "..", no leading or trailing '/'. */
const REVISION = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$/;
/** A resolved revision: the commit hash, 40 hex digits. */
export const COMMIT = /^[0-9a-f]{40}$/;

function validPart(p: string): boolean {
  return PART.test(p) && !p.includes('--') && !p.includes('..') && !p.endsWith('.') && !p.endsWith('-');
}

/** True when `id` is a well-formed model id ("owner/name" or a legacy one-part id). */
export function isRepoId(id: string): boolean {
  if (typeof id !== 'string') return false;
  const parts = id.split('/');
  return (parts.length === 1 || parts.length === 2) && parts.every(validPart);
}

export function isRevision(rev: string): boolean {
  return typeof rev === 'string' && REVISION.test(rev) && !rev.includes('..') && !rev.endsWith('/') && !rev.includes('//');
}

const HUB_HOSTS = ['huggingface.co', 'www.huggingface.co', 'hf.co'];

/** The path of a model page's address, or null when `text` is not an address of the Hub. */
function pagePath(text: string, endpoint: string): string | null {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : /^(www\.)?(huggingface\.co|hf\.co)\//i.test(text) ? `https://${text}` : null;
  if (!withScheme) return null;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  const own = new URL(endpoint);
  if (!HUB_HOSTS.includes(url.hostname.toLowerCase()) && url.host !== own.host) {
    throw new HubError('input', `${url.host} is not the Hugging Face Hub; paste a model id (owner/name) or a model page's address on huggingface.co`);
  }
  return decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
}

/**
 * The repository and revision the user means. Accepts "owner/name", "owner/name@rev", and model
 * page addresses (with /tree/<rev>, /blob/<rev>/<file> or /resolve/<rev>/<file>). Everything else
 * is refused with a HubError naming what is wrong.
 */
export function parseRepoRef(input: string, endpoint: string): RepoRef {
  const text = (input ?? '').trim();
  if (text.length === 0) throw new HubError('input', 'type a model id such as HuggingFaceTB/SmolLM2-135M, or paste its page address');
  if (text.length > 500) throw new HubError('input', 'that is too long to be a model id');
  const path = pagePath(text, endpoint);
  let id: string;
  let revision: string | null = null;
  if (path !== null) {
    const parts = path.split('/').filter((p) => p.length > 0);
    if (parts[0] === 'datasets' || parts[0] === 'spaces') {
      throw new HubError('input', `that address is a ${parts[0] === 'datasets' ? 'dataset' : 'Space'}, not a model; paste a model's page address`);
    }
    const marker = parts.findIndex((p) => p === 'tree' || p === 'blob' || p === 'resolve' || p === 'commit');
    const idParts = marker < 0 ? parts : parts.slice(0, marker);
    id = idParts.join('/');
    if (marker >= 0 && parts[marker + 1]) revision = parts[marker + 1];
  } else {
    const at = text.lastIndexOf('@');
    id = at < 0 ? text : text.slice(0, at);
    if (at >= 0) revision = text.slice(at + 1);
  }
  if (!isRepoId(id)) {
    throw new HubError('input', `'${id}' is not a model id: expected owner/name (letters, digits, '-', '_' and '.'), e.g. HuggingFaceTB/SmolLM2-135M`);
  }
  if (revision !== null && !isRevision(revision)) throw new HubError('input', `'${revision}' is not a revision name (a branch, tag or commit hash)`);
  return { id, revision };
}

/** "owner/name@abc1234" for messages and labels: the short commit, or the revision as typed. */
export function refLabel(id: string, revision: string | null): string {
  if (revision === null) return id;
  return `${id}@${COMMIT.test(revision) ? revision.slice(0, 7) : revision}`;
}
