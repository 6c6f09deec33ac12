// Results cross the worker boundary as UTF-8 JSON in an ArrayBuffer, so they are transferred
// rather than structured-cloned, and the bytes are exactly the exported depass-result/1 file.

import type { DepassResult } from '../depass/result';

export function encodeResult(result: DepassResult): ArrayBuffer {
  return new TextEncoder().encode(JSON.stringify(result)).buffer as ArrayBuffer;
}

export function decodeResult(json: ArrayBuffer): DepassResult {
  return JSON.parse(new TextDecoder().decode(json)) as DepassResult;
}
