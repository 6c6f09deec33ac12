// The report viewer's template for `depass --format html`: the one the app's build made
// (dist/report-template.html), else built here once with Vite into build/report (a checkout
// without a build). Not the filling (share/report.ts).

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const TEMPLATE = 'report-template.html';

export async function reportTemplate(root: string, log: (line: string) => void): Promise<string> {
  for (const dir of ['dist', 'build/report']) {
    const file = resolve(root, dir, TEMPLATE);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  log('building the report viewer (once; npm run build makes it too)');
  const { build } = await import('vite');
  await build({ configFile: resolve(root, 'vite.report.config.ts'), logLevel: 'error' });
  return readFileSync(resolve(root, 'build/report', TEMPLATE), 'utf8');
}
