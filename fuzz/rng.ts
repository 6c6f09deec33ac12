// The seeded random source every mutator draws from, so a failing fuzz case is reproduced from
// its suite seed and case number alone. Not cryptographic; not for anything outside tests.

import { seededRandom } from '../src/model/testing/random-model';

export class Rng {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** The generator of case `i` of a suite seeded with `seed`: independent of every other case. */
  static forCase(seed: number, i: number): Rng {
    return new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: nothing to pick from');
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: [[3, a], [1, b]] gives a three times as often as b. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let x = this.next() * total;
    for (const [w, item] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![1];
  }

  /** A position in [0, n], biased towards both ends where parsers keep their headers. */
  position(n: number): number {
    const r = this.next();
    if (r < 0.25) return Math.min(n, this.int(64));
    if (r < 0.4) return Math.max(0, n - this.int(64));
    return this.int(n + 1);
  }
}
