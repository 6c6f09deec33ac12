// The one error the Hub code throws: a kind the app can act on and a one-line message that says
// what to do. Also the mapping from the Hub's HTTP answers to those kinds. Never holds a token.

export type HubErrorKind =
  | 'input' // the id or revision typed is not one
  | 'not-found' // no such model, revision or file
  | 'auth' // 401: private or gated, no token or a refused one
  | 'forbidden' // 403: the token may not read it
  | 'no-weights' // the repository holds nothing this app reads
  | 'network' // the connection dropped and retries did not help
  | 'quota' // the browser's storage for this site is full
  | 'busy' // 429: the Hub asks to slow down
  | 'server' // any other answer
  | 'damaged' // a file arrived with the wrong size or a listing made no sense
  | 'cancelled';

export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly kind: HubErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What was being fetched, for the message of an HTTP error. */
export interface HubAsk {
  id: string;
  revision: string;
  /** The file, or null for the listing. */
  file: string | null;
  /** A token was sent. */
  withToken: boolean;
  /** The listing said the model is gated. */
  gated: boolean;
  /** The model's page, where the user accepts conditions. */
  page: string;
}

const TOKENS_PAGE = 'huggingface.co/settings/tokens';

/** The HubError for an HTTP status the Hub answered with (X-Error-Code when readable). */
export function httpError(status: number, code: string | null, ask: HubAsk): HubError {
  const { id, file } = ask;
  if (status === 401) {
    if (ask.withToken)
      return new HubError('auth', `the Hub refused the access token for ${id}: check that it is a valid token (${TOKENS_PAGE}) and press Download again`);
    if (code === 'GatedRepo' || ask.gated)
      return new HubError(
        'auth',
        `${id} is gated: accept its conditions on ${ask.page}, then paste an access token that can read it (${TOKENS_PAGE}) and press Download again`,
      );
    return new HubError('auth', `${id} was not found or is private: check the id, or paste an access token that can read it (${TOKENS_PAGE})`);
  }
  if (status === 403) {
    return new HubError(
      'forbidden',
      `your access token may not read ${id}: accept its conditions on ${ask.page} with the account the token belongs to, or use a token with read access`,
    );
  }
  if (status === 404) {
    if (code === 'RevisionNotFound') return new HubError('not-found', `${id} has no revision '${ask.revision}': check the branch, tag or commit`);
    if (file !== null && code !== 'RepoNotFound')
      return new HubError('not-found', `the Hub has no ${file} in ${id} at ${ask.revision.slice(0, 12)}; the repository may have changed, try again`);
    return new HubError('not-found', `${id} is not on the Hub: check the id (owner/name)`);
  }
  if (status === 416)
    return new HubError('damaged', `the Hub refused to continue ${file ?? 'the listing'} where it stopped; press Download again to start that file afresh`);
  if (status === 429) return new HubError('busy', 'the Hub asks to slow down (too many requests); wait a minute and press Download again');
  return new HubError('server', `the Hub answered ${status} for ${file ?? `the file list of ${id}`}; try again later`);
}

/** A failure of the connection itself (not an HTTP answer): fetch and body reads raise TypeError. */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError || (e instanceof Error && /network|fetch failed|terminated|socket|ECONNRESET|other side closed/i.test(e.message));
}

export const isAbort = (e: unknown): boolean => e instanceof Error && e.name === 'AbortError';

export const isQuotaError = (e: unknown): boolean => e instanceof Error && (e.name === 'QuotaExceededError' || /quota/i.test(e.message));
