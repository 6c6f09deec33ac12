// What a test file needs from its surroundings (../shared, a WebGPU adapter, a bundled demo) and
// what happens without it: locally its tests skip with a loud reason; under CI=true they fail with
// that reason, so a run cannot go green while whole suites did not run.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

/** CI sets CI=true; there every missing requirement is a failure. */
export const inCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** ../shared beside the repository: the reference model stories260K and the golden files. */
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

/**
 * Whether the tests that need `what` must be skipped: pass the result to describe.skipIf or
 * it.skipIf. When `ok` is false it says so loudly; under CI=true it also adds, where it is
 * called, a failing test whose message names what is missing.
 */
export function skipWithout(ok: boolean, what: string): boolean {
  if (ok) return false;
  if (inCI) {
    it(`needs ${what}`, () => {
      throw new Error(`${what} is missing, and under CI=true a missing requirement fails instead of skipping`);
    });
  } else {
    console.warn(`\n*** SKIPPED: ${what} is missing (under CI=true this fails) ***\n`);
  }
  return true;
}

/** skipWithout for files that must exist (paths under ../shared, bundled demos): names the first absent one. */
export function skipWithoutFiles(...paths: string[]): boolean {
  const absent = paths.find((p) => !existsSync(p));
  const where = absent?.startsWith(SHARED) ? ' (../shared is not beside the repository)' : '';
  return skipWithout(absent === undefined, `${absent}${where}`);
}
