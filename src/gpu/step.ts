// One GPU step: a command encoder that collects many kernel dispatches (one compute pass, broken
// only by copies and clears) and is submitted once. The engine makes one step per layer, not one
// per kernel. Uniform parameters of every dispatch go into shared 64 KiB arenas written once at
// submit; arenas are reused across steps, which is safe because queue writes and submits execute
// in order.

import { type BindingKind, type Kernel, type KernelCache, type KernelName, KERNELS, type Overrides } from './kernels';
import { type DeviceProfile, plainProfile } from './profile';
import type { GpuProfiler } from './profiler';

/** A buffer, or a range of one, bound to a kernel slot; null binds a dummy for an unused slot. */
export type Binding = GPUBuffer | GPUBufferBinding | null;

const ARENA_BYTES = 65536;

/** What dispatches report of their work (so far only the matrix products, which move nearly all the bytes). */
export interface Traffic {
  flops: number;
  /** Bytes read from and written to device memory, counting every workgroup's tile loads (no cache). */
  bytes: number;
  /** Bytes written into workgroup memory (the staged tiles). */
  staged: number;
}

/** Per-device resources shared by all steps: the kernels, the device's profile, uniform arenas and dummy buffers. */
export class StepPool {
  private free: GPUBuffer[] = [];
  private made = 0;
  private dummies = new Map<string, GPUBuffer>();
  readonly slot: number;
  /** When set, every dispatch is timed (see profiler.ts). */
  profiler: GpuProfiler | null = null;
  /** When set, every dispatch adds what it reports: FLOPs, bytes of device memory moved, bytes staged in workgroup memory. */
  traffic: Traffic | null = null;
  /**
   * What the kernels use on this device (16-bit path, reductions, tiles); tuning.ts makes it. A
   * pool made without one expands F16 weights and uses the cache's reductions and plain tiles.
   */
  readonly profile: DeviceProfile;

  constructor(
    readonly device: GPUDevice,
    readonly kernels: KernelCache,
    profile: Partial<DeviceProfile> = {},
  ) {
    this.slot = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
    this.profile = { ...plainProfile(device, false), nativeF16: false, subgroups: kernels.variants.subgroups, ...profile };
    if (this.profile.subgroups !== kernels.variants.subgroups) throw new Error('StepPool: the profile and the kernel cache disagree on subgroups');
    if (this.profile.nativeF16 && !device.features.has('shader-f16')) throw new Error('StepPool: native f16 needs the shader-f16 feature');
  }

  acquireArena(): GPUBuffer {
    return (
      this.free.pop() ??
      this.device.createBuffer({ label: `uniform arena ${this.made++}`, size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
    );
  }

  releaseArena(b: GPUBuffer): void {
    this.free.push(b);
  }

  /** A small zero-filled buffer standing in for an unused binding (one per slot and kind). */
  dummy(kind: BindingKind, index: number): GPUBuffer {
    const key = `${kind}${index}`;
    let b = this.dummies.get(key);
    if (!b) {
      b = this.device.createBuffer({ label: `unused ${kind} binding ${index}`, size: 256, usage: GPUBufferUsage.STORAGE });
      this.dummies.set(key, b);
    }
    return b;
  }

  destroy(): void {
    for (const b of this.free) b.destroy();
    for (const b of this.dummies.values()) b.destroy();
    this.free = [];
    this.dummies.clear();
  }
}

export class Step {
  private encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private arenas: { buffer: GPUBuffer; bytes: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private dispatches = 0;
  private finished = false;
  private timing: { set: GPUQuerySet; kernels: string[]; flops: number[] } | null = null;
  private static readonly MAX_TIMED = 2048;

  constructor(
    readonly pool: StepPool,
    readonly label: string,
  ) {
    this.encoder = pool.device.createCommandEncoder({ label });
    pool.device.pushErrorScope('validation');
  }

  get device(): GPUDevice {
    return this.pool.device;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.encoder.beginComputePass({ label: `${this.label} pass` });
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private uniformSlot(data: ArrayBuffer): GPUBufferBinding {
    const slot = this.pool.slot;
    let arena = this.arenas[this.arenas.length - 1];
    if (!arena || arena.used + slot > ARENA_BYTES) {
      arena = { buffer: this.pool.acquireArena(), bytes: new Uint8Array(ARENA_BYTES), used: 0 };
      this.arenas.push(arena);
    }
    const offset = arena.used;
    arena.bytes.set(new Uint8Array(data), offset);
    arena.used += slot;
    return { buffer: arena.buffer, offset, size: Math.ceil(data.byteLength / 16) * 16 };
  }

  /**
   * Records one dispatch of `kernel`. `buffers` lists the storage bindings in the kernel's order
   * (the uniform `params` binding is appended here from `params`).
   */
  dispatch(
    kernel: Kernel,
    buffers: Binding[],
    params: Record<string, number>,
    groups: readonly [number, number?, number?],
    flops = 0,
    moved?: Omit<Traffic, 'flops'>,
  ): void {
    const spec = KERNELS[kernel.name].bindings;
    if (buffers.length !== spec.length - 1) {
      throw new Error(`${kernel.name}: ${buffers.length} buffers for ${spec.length - 1} storage bindings`);
    }
    const view = kernel.params();
    view.set(params);
    const [x, y = 1, z = 1] = groups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new Error(`${kernel.label}: dispatch ${x}x${y}x${z} exceeds ${max} workgroups per dimension`);
    const entries: GPUBindGroupEntry[] = buffers.map((b, binding) => {
      const res = b ?? this.pool.dummy(spec[binding]![1], binding);
      return { binding, resource: 'buffer' in res ? res : { buffer: res } };
    });
    entries.push({ binding: spec.length - 1, resource: this.uniformSlot(view.arrayBuffer) });
    const group = this.device.createBindGroup({ label: `${kernel.label} #${this.dispatches}`, layout: kernel.layout, entries });
    const pass = this.timedPass(kernel.name, flops) ?? this.computePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    const traffic = this.pool.traffic;
    if (traffic) {
      traffic.flops += flops;
      traffic.bytes += moved?.bytes ?? 0;
      traffic.staged += moved?.staged ?? 0;
    }
    if (pass !== this.pass) pass.end();
  }

  /** With a profiler, a pass of its own with timestamps around this one dispatch. */
  private timedPass(kernel: string, flops: number): GPUComputePassEncoder | null {
    if (!this.pool.profiler) return null;
    if (!this.timing) {
      this.timing = {
        set: this.device.createQuerySet({ label: `${this.label} timestamps`, type: 'timestamp', count: 2 * Step.MAX_TIMED }),
        kernels: [],
        flops: [],
      };
    }
    const i = this.timing.kernels.length;
    if (i >= Step.MAX_TIMED) return null;
    this.timing.kernels.push(kernel);
    this.timing.flops.push(flops);
    this.endPass();
    return this.encoder.beginComputePass({
      label: `${this.label} ${kernel} (timed)`,
      timestampWrites: { querySet: this.timing.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
  }

  /** Fetches (compiling on first use) a kernel variant and records one dispatch of it. */
  async run(
    name: KernelName,
    overrides: Overrides,
    buffers: Binding[],
    params: Record<string, number>,
    groups: readonly [number, number?, number?],
    flops = 0,
    moved?: Omit<Traffic, 'flops'>,
  ): Promise<void> {
    const kernel = await this.pool.kernels.get(name, overrides);
    this.dispatch(kernel, buffers, params, groups, flops, moved);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    if (size === 0) return;
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  clear(buffer: GPUBuffer, offset = 0, size?: number): void {
    this.endPass();
    this.encoder.clearBuffer(buffer, offset, size);
  }

  /** Drops an unsubmitted step (after an error while recording it). */
  async abandon(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.endPass();
    await this.device.popErrorScope();
  }

  /** Submits the step. With `wait`, resolves once the GPU has finished it. Throws on validation errors. */
  async submit(wait = true): Promise<void> {
    if (this.finished) throw new Error(`${this.label} submitted twice`);
    this.finished = true;
    this.endPass();
    const queue = this.device.queue;
    let times: GPUBuffer | null = null;
    const timing = this.timing;
    if (timing && timing.kernels.length) {
      const n = 2 * timing.kernels.length;
      const resolved = this.device.createBuffer({
        label: `${this.label} timestamps`,
        size: n * 8,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      times = this.device.createBuffer({ label: `${this.label} timestamps read-back`, size: n * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      this.encoder.resolveQuerySet(timing.set, 0, n, resolved, 0);
      this.encoder.copyBufferToBuffer(resolved, 0, times, 0, n * 8);
    }
    for (const a of this.arenas) queue.writeBuffer(a.buffer, 0, a.bytes, 0, a.used);
    queue.submit([this.encoder.finish({ label: this.label })]);
    for (const a of this.arenas) this.pool.releaseArena(a.buffer);
    const error = await this.device.popErrorScope();
    if (error) throw new Error(`${this.label}: ${error.message}`);
    if (times && timing && this.pool.profiler) {
      await times.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(times.getMappedRange());
      timing.kernels.forEach((k, i) => this.pool.profiler!.add(k, Number(t[2 * i + 1]! - t[2 * i]!), timing.flops[i]!));
      times.unmap();
      times.destroy();
      timing.set.destroy();
    } else if (wait) {
      await queue.onSubmittedWorkDone();
    }
  }
}

/** Splits n workgroups into an (x, y) grid within the per-dimension limit; shaders flatten x + y * nx. */
export function grid(n: number, max = 65535): [number, number] {
  if (n <= max) return [n, 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y];
}

/**
 * Records one step with `record` and submits it (dropping it if recording throws). With `wait`,
 * resolves once the GPU has finished it; otherwise steps queue back to back.
 */
export async function recordStep(pool: StepPool, label: string, record: (step: Step) => Promise<void>, wait = false): Promise<void> {
  const step = new Step(pool, label);
  try {
    await record(step);
  } catch (e) {
    await step.abandon();
    throw e;
  }
  await step.submit(wait);
}
