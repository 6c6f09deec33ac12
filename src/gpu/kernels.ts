// The kernel registry and the per-device pipeline cache. Each kernel is one static shaders/*.wgsl
// file, joined after the shared preludes it names (weight loaders, reductions); its bindings are
// declared here in the fixed order inputs, outputs, params (a test checks them against the WGSL),
// its uniform struct is laid out from the WGSL by webgpu-utils, and its variants are `override`
// constants. Shader sources come from an injected loader (fs in Node, Vite's import.meta.glob in
// the browser), so this file imports neither.

import './float16-polyfill';
import { makeShaderDataDefinitions, makeStructuredView, type StructuredView } from 'webgpu-utils';

export type BindingKind = 'read' | 'write' | 'uniform';

export interface KernelSpec {
  /** Bindings of group 0 in binding order: inputs (read), outputs (write), then `params`. */
  bindings: readonly (readonly [name: string, kind: BindingKind])[];
  /**
   * The shader files joined, in order, into the kernel's module: preludes first, the kernel's own
   * file last (default: the kernel's name alone). A slot name (`reduce`) stands for the prelude
   * variant the cache was made with (see PRELUDE_SLOTS).
   */
  modules?: readonly string[];
  /** The device feature the module needs (its first file starts with the matching `enable`). */
  feature?: GPUFeatureName;
}

/** How a cache fills the prelude slots: one choice per device, made once (see tuning.ts). */
export interface KernelVariants {
  /** Workgroup reductions through subgroup operations (device feature `subgroups`). */
  subgroups: boolean;
}

/** Prelude slots and the file each variant puts there. */
const PRELUDE_SLOTS: Record<string, (v: KernelVariants) => { file: string; feature?: GPUFeatureName }> = {
  reduce: (v) => (v.subgroups ? { file: 'reduce_subgroups', feature: 'subgroups' } : { file: 'reduce_workgroup' }),
};

const R = 'read' as const;
const W = 'write' as const;
const U = 'uniform' as const;

const MATMUL_BINDINGS = [
  ['X', R],
  ['W', R],
  ['bias', R],
  ['scale', R],
  ['rows', R],
  ['Y', W],
  ['params', U],
] as const;

/** Every kernel, keyed by its name (its own shader file is shaders/<name>.wgsl unless `modules` says otherwise). */
export const KERNELS = {
  /** Weights in any file dtype expanded to f32 in registers; f32 products. */
  matmul: { bindings: MATMUL_BINDINGS, modules: ['weights_expanded', 'matmul'] },
  /** F16 weights read as f16, products in f16, sums in f32 (devices with shader-f16). */
  matmul_f16: { bindings: MATMUL_BINDINGS, modules: ['weights_f16', 'matmul'], feature: 'shader-f16' },
  embedding: {
    bindings: [
      ['table', R],
      ['ids', R],
      ['out', W],
      ['params', U],
    ],
  },
  norm_stats: {
    modules: ['reduce', 'norm_stats'],
    bindings: [
      ['h', R],
      ['delta', R],
      ['hOut', W],
      ['scale', W],
      ['mean', W],
      ['params', U],
    ],
  },
  norm_apply: {
    modules: ['reduce', 'norm_apply'],
    bindings: [
      ['x', R],
      ['scale', R],
      ['gamma', R],
      ['beta', R],
      ['rows', R],
      ['y', W],
      ['params', U],
    ],
  },
  head_norm: {
    modules: ['reduce', 'head_norm'],
    bindings: [
      ['gamma', R],
      ['x', W],
      ['params', U],
    ],
  },
  rope: {
    bindings: [
      ['table', R],
      ['x', W],
      ['params', U],
    ],
  },
  attention_probs: {
    modules: ['reduce', 'attention_probs'],
    bindings: [
      ['q', R],
      ['k', R],
      ['A', W],
      ['params', U],
    ],
  },
  attention_mix: {
    bindings: [
      ['A', R],
      ['v', R],
      ['start', R],
      ['y', W],
      ['params', U],
    ],
  },
  activation: {
    bindings: [
      ['gate', R],
      ['up', R],
      ['a', W],
      ['params', U],
    ],
  },
  scale_add: {
    bindings: [
      ['x', R],
      ['y', W],
      ['params', U],
    ],
  },
  mlp_share: {
    bindings: [
      ['g', R],
      ['a', R],
      ['start', R],
      ['c', W],
      ['params', U],
    ],
  },
  readout: {
    modules: ['reduce', 'readout'],
    bindings: [
      ['C', R],
      ['dirs', R],
      ['pos', R],
      ['scale', R],
      ['gamma', R],
      ['beta', R],
      ['out', W],
      ['params', U],
    ],
  },
  topk: {
    modules: ['reduce', 'topk'],
    bindings: [
      ['logits', R],
      ['ids', W],
      ['vals', W],
      ['params', U],
    ],
  },
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** Returns the WGSL source of shaders/<name>.wgsl. */
export type ShaderLoader = (name: string) => string;

/**
 * A loader over sources keyed by path, e.g. what Vite's
 * `import.meta.glob('/shaders/*.wgsl', { query: '?raw', eager: true })` returns (values are the
 * source or a module whose default export is the source). Keys match by file name.
 */
export function shaderLoaderFromModules(modules: Record<string, string | { default: string }>): ShaderLoader {
  const byName = new Map<string, string>();
  for (const [path, mod] of Object.entries(modules)) {
    const file = path.slice(path.lastIndexOf('/') + 1).replace(/\.wgsl(\?.*)?$/, '');
    byName.set(file, typeof mod === 'string' ? mod : mod.default);
  }
  return (name: string) => {
    const s = byName.get(name);
    if (s === undefined) throw new Error(`shader ${name}.wgsl is missing (have: ${[...byName.keys()].join(', ')})`);
    return s;
  };
}

export type Overrides = Record<string, number | boolean>;

export interface Kernel {
  name: KernelName;
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** A fresh view of the kernel's `Params` uniform struct (laid out from the WGSL). */
  params(): StructuredView;
  paramsSize: number;
}

export class ShaderCompileError extends Error {
  override readonly name = 'ShaderCompileError';
}

function bindingType(kind: BindingKind): GPUBindGroupLayoutEntry['buffer'] {
  return { type: kind === 'read' ? 'read-only-storage' : kind === 'write' ? 'storage' : 'uniform' };
}

/** One shader file's place in an assembled module (for compile messages). */
interface Part {
  file: string;
  firstLine: number; // 1-based line of the module where the file starts
  lines: number;
}

/** A kernel's module source: its files joined in order, and where each starts. */
interface Assembled {
  source: string;
  parts: Part[];
  features: GPUFeatureName[];
}

/** Compiles kernels on first use and keeps one pipeline per (kernel, overrides) for a device. */
export class KernelCache {
  private modules = new Map<KernelName, Promise<{ module: GPUShaderModule; source: string }>>();
  private layouts = new Map<KernelName, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private pipelines = new Map<string, Promise<Kernel>>();
  private defs = new Map<KernelName, ReturnType<typeof makeShaderDataDefinitions>>();

  constructor(
    readonly device: GPUDevice,
    private readonly load: ShaderLoader,
    readonly variants: KernelVariants = { subgroups: false },
  ) {}

  /** The cache of the same device and loader with other prelude variants. */
  withVariants(variants: KernelVariants): KernelCache {
    return kernelCache(this.device, this.load, variants);
  }

  /** The WGSL source of a kernel's module, preludes included (for reflection tests). */
  source(name: KernelName): string {
    return this.assemble(name).source;
  }

  /** The shader files of a kernel's module, slots resolved. */
  files(name: KernelName): string[] {
    return this.assemble(name).parts.map((p) => p.file);
  }

  private assemble(name: KernelName): Assembled {
    const spec: KernelSpec = KERNELS[name];
    const parts: Part[] = [];
    const features: GPUFeatureName[] = spec.feature ? [spec.feature] : [];
    const texts: string[] = [];
    let line = 1;
    for (const m of spec.modules ?? [name]) {
      const slot = PRELUDE_SLOTS[m]?.(this.variants);
      const file = slot?.file ?? m;
      if (slot?.feature) features.push(slot.feature);
      const text = this.load(file).replace(/\n?$/, '\n');
      const lines = text.split('\n').length - 1;
      parts.push({ file, firstLine: line, lines });
      texts.push(text);
      line += lines;
    }
    return { source: texts.join(''), parts, features };
  }

  get(name: KernelName, overrides: Overrides = {}): Promise<Kernel> {
    const keys = Object.keys(overrides).sort();
    const key = name + '|' + keys.map((k) => `${k}=${Number(overrides[k])}`).join(',');
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.build(name, overrides, key);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private module(name: KernelName): Promise<{ module: GPUShaderModule; source: string }> {
    let m = this.modules.get(name);
    if (!m) {
      m = (async () => {
        const { source, parts, features } = this.assemble(name);
        const missing = features.filter((f) => !this.device.features.has(f));
        if (missing.length)
          throw new ShaderCompileError(`${name}: the device lacks ${missing.join(', ')}, which ${parts.map((p) => `${p.file}.wgsl`).join(' + ')} needs`);
        const module = this.device.createShaderModule({ label: parts.map((p) => `${p.file}.wgsl`).join(' + '), code: source });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((msg) => msg.type === 'error');
        if (errors.length) throw new ShaderCompileError(formatMessages(name, source, parts, errors));
        return { module, source };
      })();
      this.modules.set(name, m);
      m.catch(() => this.modules.delete(name));
    }
    return m;
  }

  private layout(name: KernelName): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    let l = this.layouts.get(name);
    if (!l) {
      const spec: KernelSpec = KERNELS[name];
      const group = this.device.createBindGroupLayout({
        label: `${name} bind group layout`,
        entries: spec.bindings.map(([, kind], binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: bindingType(kind) })),
      });
      const pipeline = this.device.createPipelineLayout({ label: `${name} pipeline layout`, bindGroupLayouts: [group] });
      l = { group, pipeline };
      this.layouts.set(name, l);
    }
    return l;
  }

  private definitions(name: KernelName, source: string): ReturnType<typeof makeShaderDataDefinitions> {
    let d = this.defs.get(name);
    if (!d) {
      d = makeShaderDataDefinitions(source);
      this.defs.set(name, d);
    }
    return d;
  }

  private async build(name: KernelName, overrides: Overrides, key: string): Promise<Kernel> {
    const { module, source } = await this.module(name);
    const layout = this.layout(name);
    const constants: Record<string, number> = {};
    for (const [k, v] of Object.entries(overrides)) constants[k] = Number(v);
    const label = key.replace('|', ' ');
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({
        label,
        layout: layout.pipeline,
        compute: { module, entryPoint: 'main', constants },
      });
    } catch (e) {
      throw new ShaderCompileError(`${name}.wgsl: pipeline creation failed for ${label}: ${(e as Error).message}`);
    }
    const defs = this.definitions(name, source);
    const paramsDef = defs.uniforms.params;
    if (!paramsDef) throw new ShaderCompileError(`${name}.wgsl declares no uniform \`params\``);
    return {
      name,
      label,
      pipeline,
      layout: layout.group,
      params: () => makeStructuredView(paramsDef),
      paramsSize: paramsDef.size,
    };
  }
}

function formatMessages(name: string, source: string, parts: Part[], messages: readonly GPUCompilationMessage[]): string {
  const lines = source.split('\n');
  const where = (line: number) => {
    const p = parts.find((q) => line >= q.firstLine && line < q.firstLine + q.lines) ?? parts[parts.length - 1]!;
    return { file: p.file, line: line - p.firstLine + 1 };
  };
  const out = messages.map((m) => {
    const text = m.lineNum > 0 ? (lines[m.lineNum - 1] ?? '') : '';
    const w = where(m.lineNum);
    return `shaders/${w.file}.wgsl:${w.line}:${m.linePos}: ${m.message}\n  ${w.line} | ${text}`;
  });
  const files = parts.map((p) => `shaders/${p.file}.wgsl`).join(' + ');
  return `${name} (${files}) failed to compile:\n${out.join('\n')}`;
}

const caches = new WeakMap<GPUDevice, Map<ShaderLoader, Map<string, KernelCache>>>();

/** The kernel cache of a device (one per device, shader loader and prelude variants). */
export function kernelCache(device: GPUDevice, load: ShaderLoader, variants: KernelVariants = { subgroups: false }): KernelCache {
  let byLoader = caches.get(device);
  if (!byLoader) {
    byLoader = new Map();
    caches.set(device, byLoader);
  }
  let byVariant = byLoader.get(load);
  if (!byVariant) {
    byVariant = new Map();
    byLoader.set(load, byVariant);
  }
  const key = JSON.stringify(variants);
  let c = byVariant.get(key);
  if (!c) {
    c = new KernelCache(device, load, variants);
    byVariant.set(key, c);
  }
  return c;
}
