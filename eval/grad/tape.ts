// A minimal reverse-mode tape for float64 activations: each differentiable op computes its output
// and records a closure that pushes the output's gradient back to its inputs. Only activations
// carry gradients; weights are constants here (the baselines differentiate with respect to
// inputs and intermediate outputs, never parameters).

/** A float64 activation and, after a backward pass, its gradient (null where none arrived). */
export class Var {
  grad: Float64Array | null = null;
  constructor(readonly value: Float64Array) {}

  /** The gradient buffer, created zero-filled on first use. */
  gradBuffer(): Float64Array {
    if (!this.grad) this.grad = new Float64Array(this.value.length);
    return this.grad;
  }
}

export class Tape {
  private readonly steps: (() => void)[] = [];

  /** Records the backward step of an op just computed; steps run in reverse order. */
  record(step: () => void): void {
    this.steps.push(step);
  }

  /** Back-propagates `seed` (d objective / d out) from `out` through every recorded op. */
  backward(out: Var, seed: Float64Array): void {
    if (seed.length !== out.value.length) throw new Error(`backward: seed has ${seed.length} elements, the output ${out.value.length}`);
    out.gradBuffer().set(seed);
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]();
  }
}
