// Every kernel but matmul (see matmul.test.ts) against its TypeScript twin in src/depass/ops.ts,
// on shapes that are not multiples of the workgroup or tile sizes, including one-row cases, with
// both reduction preludes (workgroup memory, subgroups); and the kernel registry's bindings against
// the WGSL declarations. The checks live in testing/kernel-checks.ts, which the self-contained GPU
// check runs too; a check the device cannot run checks that the engine refuses it, naming why.

import { describe, expect, it } from 'vitest';
import { KERNEL_CHECKS } from './testing/kernel-checks';
import { Tally } from './testing/tally';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';

const gpu = await testGpu();

describe.skipIf(skipWithoutGpu(gpu))(`kernels vs twins (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  for (const c of KERNEL_CHECKS) {
    const why = gpu && c.unsupported?.(gpu);
    // Under CI a skip is a failure: a path this device lacks is checked for its refusal instead.
    if (!why) it(c.name, () => c.run(gpu!, new Tally()));
    else
      it(`${c.name}: refused here (${why})`, async () => {
        if (!c.refused) throw new Error(`${c.name}: the device cannot run it (${why}) and the check says nothing of a refusal`);
        const t = new Tally();
        await c.refused(gpu!, t);
        expect(t.comparisons).toBeGreaterThan(0);
      });
  }
});
