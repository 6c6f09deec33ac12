// The example notebook, run headless as a reader would run it (Jupyter's nbconvert, from Debian's
// jupyter-nbconvert, python3-ipykernel and python3-pandas; .ci/run installs them): every cell runs
// without an error, its own completeness checks pass, and the last cell shows the report in a frame.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithout } from '../src/testing/requirements';

const JUPYTER = '/usr/bin/jupyter';
const hasPandas = existsSync(JUPYTER) && spawnSync('/usr/bin/python3', ['-c', 'import pandas, ipykernel, nbconvert']).status === 0;

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}
const text = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

describe.skipIf(skipWithout(hasPandas, 'Jupyter with pandas (apt-get install jupyter-nbconvert python3-ipykernel python3-pandas)'))(
  'examples/depass.ipynb',
  () => {
    it('runs every cell; the numbers add up and the report is shown inline', () => {
      const out = mkdtempSync(join(tmpdir(), 'depass-nb-'));
      const r = spawnSync(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', resolve('examples/depass.ipynb'), '--output-dir', out], {
        encoding: 'utf8',
        timeout: 300_000,
        // The notebook's kernel is Debian's Python, whatever python3 comes first on PATH.
        env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}`, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      const nb = JSON.parse(readFileSync(join(out, 'depass.ipynb'), 'utf8')) as { cells: { cell_type: string; outputs?: Output[] }[] };
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`)).toEqual([]);
      const printed = outputs.map((o) => text(o.text)).join('\n');
      expect(printed).toMatch(/completeness holds at \d+ positions/);
      expect(printed).toMatch(/head rows per layer add up to the logit/);
      const shown = outputs.map((o) => text(o.data?.['text/html'])).join('\n');
      expect(shown).toContain('<iframe srcdoc="&lt;!doctype html&gt;');
      expect(shown).toContain('depass-report/1');
    });
  },
);
