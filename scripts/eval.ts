// `npm run eval`: faithfulness of DePass on the bundled demo models' held-out probes. Prints
// three tables per model (top source token, deletion curve, head masking) and writes
// reports/eval.json. Options: --model demo-llama|demo-gpt2 (default both), --limit N probes of each kind.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toReferenceModel } from '../src/depass/reference-model';
import { type EvalReport, evaluate, type Probe } from '../eval/faithfulness';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';

const { values } = parseArgs({
  options: { model: { type: 'string' }, limit: { type: 'string' }, out: { type: 'string', default: 'reports/eval.json' } },
});
const models = values.model ? [values.model] : ['demo-llama', 'demo-gpt2'];
const all = (JSON.parse(readFileSync('public/models/probes.json', 'utf8')) as { probes: (Probe & { example?: boolean })[] }).probes;
const heldOut = all.filter((p) => !p.example);
// --limit keeps the first N of each kind, so that a short run still covers every task.
const limit = values.limit === undefined ? Infinity : Number(values.limit);
if (!(limit > 0)) throw new Error(`--limit must be a positive number of probes per kind, not '${values.limit}'`);
const seen = new Map<string, number>();
const probes = heldOut.filter((p) => {
  const n = seen.get(p.kind) ?? 0;
  seen.set(p.kind, n + 1);
  return n < limit;
});

function table(title: string, rows: Record<string, Record<string, number>>, fmt: (x: number) => string): string {
  const cols = Object.keys(Object.values(rows)[0]);
  const w = Math.max(14, ...Object.keys(rows).map((r) => r.length + 2));
  const lines = [title, ''.padEnd(w) + cols.map((c) => c.padStart(10)).join('')];
  for (const [name, row] of Object.entries(rows)) lines.push(name.padEnd(w) + cols.map((c) => fmt(row[c]).padStart(10)).join(''));
  return lines.join('\n');
}
const pctf = (x: number) => `${(100 * x).toFixed(1)}%`;

const reports: EvalReport[] = [];
for (const name of models) {
  const dir = resolve('public/models', name);
  const files = await filesFromPath(dir);
  const c = await loadCheckpoint(files);
  const tokenizer = await loadTokenizer(files);
  const t0 = performance.now();
  const report = await evaluate(name, toReferenceModel(c.description, c.weights), tokenizer, probes, {}, (n, total) => {
    if (n % 20 === 0) process.stderr.write(`\r${name}: probe ${n}/${total}`);
  });
  process.stderr.write(`\r${name}: ${report.probes} probes in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  reports.push(report);
  console.log(`\n== ${name}: ${report.probes} held-out probes (${report.skipped.length} skipped) ==`);
  console.log(table('model accuracy (argmax = answer)', { model: report.accuracy }, pctf));
  const hitRows = { ...report.topSourceHit, 'depass, answer vs rival': report.topSourceHitContrast };
  console.log('\n' + table('top-1 source token is a ground-truth source (rival: the strongest distractor)', hitRows, pctf));
  console.log('\n' + table('deletion: mean relative drop of p(answer) after removing the top p% tokens (higher = more faithful)', report.deletion, pctf));
  const counts = Object.entries(report.headCounts)
    .map(([f, n]) => `${f}=${n}`)
    .join(', ');
  console.log('\n' + table(`head masking: accuracy after zeroing the top heads (${counts} heads; lower = more faithful)`, report.headMasking, pctf));
}
mkdirSync(resolve(values.out, '..'), { recursive: true });
writeFileSync(values.out, JSON.stringify({ generated: new Date().toISOString(), reports }, null, 1));
console.log(`\nreport written to ${values.out}`);
