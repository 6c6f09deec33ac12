// The engine worker's entry point: binds the EngineHost to the worker global, with WebGPU when
// the browser offers it and the page did not ask for the CPU reference (the worker's name says
// so: see state/engine.ts). Shader sources are bundled by Vite as text.

import { shaderLoaderFromModules } from '../gpu/kernels';
import { openGpuSession } from '../gpu/session';
import { EngineHost } from './host';
import { CPU_WORKER_SUFFIX } from './protocol';
import type { Reply, Request } from './protocol';

const loadShader = shaderLoaderFromModules(import.meta.glob('/shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>);

const scope = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  navigator: Navigator;
  name: string;
};

const gpu = scope.navigator.gpu;
const cpuAsked = scope.name.endsWith(CPU_WORKER_SUFFIX);
const provider = cpuAsked
  ? () => Promise.resolve({ unavailable: 'the page asked for the CPU reference engine (?engine=cpu)' })
  : gpu
    ? () => openGpuSession(gpu, loadShader)
    : null;
const host = new EngineHost((reply, transfer) => scope.postMessage(reply, transfer ?? []), provider);

scope.onmessage = (ev) => host.handle(ev.data);
