// The engine worker's entry point: binds the EngineHost to the worker global, with WebGPU when
// the browser offers it. Shader sources are bundled by Vite as text.

import { EngineHost } from './host';
import { webGpuProvider } from './gpu-provider';
import type { Reply, Request } from './protocol';

const shaders = import.meta.glob('/shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

function loadShader(name: string): string {
  const src = shaders[`/shaders/${name}.wgsl`] ?? shaders[`/shaders/${name}`];
  if (src === undefined) throw new Error(`shader ${name} is not bundled`);
  return src;
}

const scope = self as unknown as {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  navigator: Navigator;
};

const host = new EngineHost(
  (reply, transfer) => scope.postMessage(reply, transfer ?? []),
  scope.navigator.gpu ? webGpuProvider(scope.navigator.gpu, loadShader) : null,
);

scope.onmessage = (ev) => host.handle(ev.data);
