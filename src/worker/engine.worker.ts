// The engine worker's entry point: binds the EngineHost to the worker global, with WebGPU when
// the browser offers it. Shader sources are bundled by Vite as text.

import { shaderLoaderFromModules } from '../gpu/kernels';
import { openGpuSession } from '../gpu/session';
import { EngineHost } from './host';
import type { Reply, Request } from './protocol';

const loadShader = shaderLoaderFromModules(import.meta.glob('/shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>);

const scope = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  navigator: Navigator;
};

const gpu = scope.navigator.gpu;
const host = new EngineHost((reply, transfer) => scope.postMessage(reply, transfer ?? []), gpu ? () => openGpuSession(gpu, loadShader) : null);

scope.onmessage = (ev) => host.handle(ev.data);
