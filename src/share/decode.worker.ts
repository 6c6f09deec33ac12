// Decodes one permalink off the main thread (a long link inflates to megabytes and is parsed
// field by field), answering with the run or the LinkError's one-line message. Knows nothing of
// the app; one request per worker.

import { decodeRun } from './permalink/decode';
import { LinkError } from './permalink/format';
import type { DecodeReply } from './decode';

const scope = self as unknown as { onmessage: ((e: MessageEvent<string>) => void) | null; postMessage(m: DecodeReply): void };

scope.onmessage = (e) => {
  try {
    scope.postMessage({ ok: true, run: decodeRun(e.data) });
  } catch (err) {
    scope.postMessage({ ok: false, message: err instanceof LinkError ? err.message : 'this link is damaged' });
  }
};
