// What every kernel check shares: its shape (a name and an async run against a test GPU, counting
// into a Tally), and small helpers to upload, read back and run a step.

import { readF32, uploadStorage } from '../buffers';
import { Step } from '../step';
import type { TestGpu } from './gpu-env';
import type { Tally } from './tally';

export interface KernelCheck {
  name: string;
  run(gpu: TestGpu, t: Tally): Promise<void>;
}

export function helpers(gpu: TestGpu) {
  const up = (label: string, data: ArrayBufferView) => uploadStorage(gpu.ctx.device, label, data);
  const read = (b: GPUBuffer, n: number) => readF32(gpu.ctx.device, b, 0, n);
  const step = async (label: string, record: (s: Step) => Promise<void>) => {
    const s = new Step(gpu.pool, label);
    await record(s);
    await s.submit();
  };
  return { up, read, step };
}
