// The engine as the store sees it: the worker client in the browser, a stand-in in tests.
// The store never touches the Worker or WebGPU directly; this is its only way to the engine.

import { EngineClient, type WorkerLike } from '../worker/client';
import { CPU_WORKER_SUFFIX } from '../worker/protocol';

export type Engine = Pick<EngineClient, 'load' | 'tokenize' | 'run' | 'ablate' | 'attention' | 'promotes' | 'vocab' | 'generate'>;

/** The page's `?engine=cpu` asks for the CPU reference engine instead of WebGPU. */
const cpuAsked = () => typeof location !== 'undefined' && new URLSearchParams(location.search).get('engine') === 'cpu';

/** Starts the engine worker; the watchdog uses the same function to replace a stuck one. */
function spawnWorker(): WorkerLike {
  const name = `depass-engine${cpuAsked() ? CPU_WORKER_SUFFIX : ''}`;
  return new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name }) as unknown as WorkerLike;
}

/** The app's engine, started on first use so the page paints before the worker boots. */
export function lazyBrowserEngine(): () => Engine {
  let instance: Engine | null = null;
  return () => (instance ??= new EngineClient(spawnWorker(), spawnWorker, 60_000));
}
