// Assertions for checks that run both under Vitest and in the self-contained GPU check (no test
// runner there): each comparison throws an AssertionError naming what failed, and the tally keeps
// how close the closest call came (largest error / tolerance), for the GPU check's report.

import { AssertionError } from 'node:assert';
import { maxAbs, maxAbsDiff } from './compare';

export class Tally {
  /** Comparisons made so far. */
  comparisons = 0;
  /** Largest error / tolerance over the closeness comparisons (0 when exact; above 1 fails). */
  worstRatio = 0;

  private fail(message: string, actual?: unknown, expected?: unknown): never {
    throw new AssertionError({ message, actual, expected, operator: 'check' });
  }

  /** |got - want| <= rel * max(1, max |want|) over want's length; got may be longer. */
  close(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5): void {
    if (got.length < want.length) this.fail(`${label}: ${got.length} values, expected at least ${want.length}`);
    this.within(label, maxAbsDiff(got, want), rel * Math.max(1, maxAbs(want)));
  }

  /** An error already measured against its tolerance (NaN fails). */
  within(label: string, error: number, tolerance: number): void {
    this.comparisons++;
    const ratio = tolerance > 0 ? error / tolerance : error === 0 ? 0 : Infinity;
    if (!(ratio <= this.worstRatio)) this.worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
    if (!(error <= tolerance)) this.fail(`${label}: max |error| ${error.toExponential(2)} > tolerance ${tolerance.toExponential(2)}`, error, tolerance);
  }

  ok(condition: boolean, label: string): void {
    this.comparisons++;
    if (!condition) this.fail(label);
  }

  equal<T>(actual: T, expected: T, label: string): void {
    this.comparisons++;
    if (!Object.is(actual, expected)) this.fail(`${label}: got ${String(actual)}, expected ${String(expected)}`, actual, expected);
  }

  sameList(actual: readonly unknown[], expected: readonly unknown[], label: string): void {
    this.comparisons++;
    if (actual.length !== expected.length || actual.some((a, i) => !Object.is(a, expected[i]))) {
      this.fail(`${label}: got [${actual.join(', ')}], expected [${expected.join(', ')}]`, actual, expected);
    }
  }

  throws(fn: () => unknown, pattern: RegExp, label: string): void {
    this.comparisons++;
    try {
      fn();
    } catch (e) {
      if (!pattern.test((e as Error).message)) this.fail(`${label}: threw '${(e as Error).message}', expected ${pattern}`);
      return;
    }
    this.fail(`${label}: did not throw, expected ${pattern}`);
  }

  async rejects(promise: Promise<unknown>, pattern: RegExp, label: string): Promise<void> {
    this.comparisons++;
    try {
      await promise;
    } catch (e) {
      if (!pattern.test((e as Error).message)) this.fail(`${label}: rejected with '${(e as Error).message}', expected ${pattern}`);
      return;
    }
    this.fail(`${label}: resolved, expected a rejection matching ${pattern}`);
  }
}
