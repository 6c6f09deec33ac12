// WebGPU in Node through the `webgpu` package (Dawn), and a shader loader that reads shaders/*.wgsl
// from disk. For the CLI, benchmarks and tests; the browser worker passes its own GPU and loader.
// The Vulkan driver is chosen by the environment before the process starts (VK_ICD_FILENAMES).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';
import type { ShaderLoader } from './kernels';

let gpu: GPU | null = null;

/** The process's GPU object; installs the WebGPU globals (GPUBufferUsage...) on first call. */
export function createNodeGpu(options: string[] = []): GPU {
  if (!gpu) {
    Object.assign(globalThis, globals);
    gpu = create(options);
  }
  return gpu;
}

const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

/** Reads shaders/<name>.wgsl (from `dir`, default the project's shaders folder) on each call. */
export function nodeShaderLoader(dir = SHADER_DIR): ShaderLoader {
  const cache = new Map<string, string>();
  return (name: string) => {
    let s = cache.get(name);
    if (s === undefined) {
      s = readFileSync(`${dir.replace(/\/?$/, '/')}${name}.wgsl`, 'utf8');
      cache.set(name, s);
    }
    return s;
  };
}
