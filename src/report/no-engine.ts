// The engine as a report sees it: there is none. The report build puts this module in the place
// of src/state/engine.ts, so the viewer carries no worker, kernels or model code; anything that
// would ask the engine gets a one-line answer instead.

import type { Engine } from '../state/engine';

const none = () => Promise.reject(new Error('a report has no model: open the run in DePass Studio to compute more'));

export function lazyBrowserEngine(): () => Engine {
  const engine: Engine = {
    load: none,
    tokenize: none,
    run: () => ({ id: 0, result: none(), cancel: () => undefined }),
    ablate: none,
    attention: none,
    promotes: none,
    vocab: none,
    generate: () => ({ result: none(), cancel: () => undefined }),
  };
  return () => engine;
}
