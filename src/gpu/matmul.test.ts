// shaders/matmul.wgsl against its twin ops.gemm: odd shapes, one row, every weight dtype, the vec4
// and scalar load paths, bias on all rows or on one block, row maps, batches, accumulation, each
// tile shape, and the native f16 path. The cases live in testing/matmul-checks.ts, which the
// self-contained GPU check runs too; a case the device cannot run checks that the engine refuses it, naming why.

import { describe, expect, it } from 'vitest';
import { MATMUL_CHECKS } from './testing/matmul-checks';
import { Tally } from './testing/tally';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';

const gpu = await testGpu();

describe.skipIf(skipWithoutGpu(gpu))(`matmul.wgsl vs ops.gemm (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  for (const c of MATMUL_CHECKS) {
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
