// What the tokenizer suites share: loading a case's files with loadTokenizer and then using the
// tokenizer as the app does right away (encode, decode, token texts), so a file the loader
// accepts but that breaks on first use counts against the loader.

import { loadTokenizer } from '../src/model/tokenizer';
import { useTokenizer, type TokenizerUse } from './checks';
import type { CountedFiles } from './harness';

export async function loadAndUseTokenizer(folder: CountedFiles): Promise<TokenizerUse> {
  return useTokenizer(await loadTokenizer(folder.files));
}

/**
 * ArrayBuffer growth allowed for a tokenizer input: the file read once (twice while decoding
 * it to text) plus the library's and runtime's own buffers.
 */
export function tokenizerMemoryBound(inputBytes: number): number {
  return 4 * inputBytes + 16 * 1024 * 1024;
}
