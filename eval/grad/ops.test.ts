// The activation derivatives against central differences of the engine's own activations, over
// the range where MLP pre-activations live and well beyond it.

import { describe, expect, it } from 'vitest';
import { activation } from '../../src/depass/ops';
import { activationDerivative } from './ops';

describe.each(['silu', 'gelu_tanh', 'gelu'] as const)('%s derivative', (kind) => {
  it('matches central differences within 1e-6 on [-12, 12]', () => {
    const f = activation(kind);
    const df = activationDerivative(kind);
    const eps = 1e-5;
    let worst = 0;
    for (let x = -12; x <= 12; x += 0.037) {
      const fd = (f(x + eps) - f(x - eps)) / (2 * eps);
      worst = Math.max(worst, Math.abs(df(x) - fd));
    }
    expect(worst).toBeLessThan(1e-6);
    // Known values: silu'(0) = gelu'(0) = 1/2.
    expect(df(0)).toBeCloseTo(0.5, 12);
  });
});
