// The lint rules that keep the data flow one way must catch a wrong import: ESLint run on small
// sources placed in the folders they would live in, so a rule that stops matching fails here.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path });
  return r!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import rules', () => {
  it.each([
    ['src/gpu/leak.ts', "import { useState } from 'react';\nexport const x = useState;\n", /knows nothing of workers, the app or the views/],
    ['src/gpu/leak.ts', "import { useApp } from '../state';\nexport const x = useApp;\n", /knows nothing of workers/],
    ['src/model/leak.ts', "import { GpuBackend } from '../gpu/engine';\nexport const x = GpuBackend;\n", /src\/model reads checkpoints/],
    ['src/depass/leak.ts', "import { select } from 'd3';\nexport const x = select;\n", /backend-independent/],
    ['src/share/leak.ts', "import { createAppStore } from '../state/store';\nexport const x = createAppStore;\n", /know nothing of the store/],
    ['src/hub/leak.ts', "import { useApp } from '../state';\nexport const x = useApp;\n", /Hub client fetches model files/],
    ['src/ui/Leak.tsx', "import { GpuBackend } from '../gpu/engine';\nexport const x = GpuBackend;\n", /views know nothing of WebGPU/],
    ['src/worker/leak.ts', "import { runBench } from '../../bench/bench';\nexport const x = runBench;\n", /knows nothing of the views/],
    ['src/depass/leak.test.ts', "import { evaluate } from '../../eval/faithfulness';\nexport const x = evaluate;\n", /tooling lives outside it/],
  ])('%s: %s is refused', async (path, code, message) => {
    const found = await problems(path, code);
    expect(
      found.some((m) => m.startsWith('no-restricted-imports') && message.test(m)),
      found.join('\n'),
    ).toBe(true);
  });

  it('allows imports downstream of the data flow, and refuses file suffixes', async () => {
    expect(await problems('src/gpu/ok.ts', "import { dims } from '../model/description';\nexport const x = dims;\n")).toEqual([]);
    expect(await problems('src/ui/Ok.tsx', "import { useApp } from '../state';\nexport const x = useApp;\n")).toEqual([]);
    const suffix = await problems('src/gpu/ok.ts', "import { dims } from '../model/description.ts';\nexport const x = dims;\n");
    expect(suffix.some((m) => m.includes('without the .ts/.tsx suffix'))).toBe(true);
  });
});
