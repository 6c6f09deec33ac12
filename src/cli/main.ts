// The `depass` command-line tool: loads a model from disk, runs DePass in Node (WebGPU through
// Dawn when an adapter exists, else the TypeScript reference) and writes the result JSON.
// Bad input ends in one line on stderr and exit code 2, never a stack trace.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AttributionBackend } from '../depass/backend';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import type { Mode, Rule } from '../depass/result';
import { runDepass, RunInputError, type RunOptions } from '../depass/run';
import { loadCheckpoint } from '../model/checkpoint';
import { ModelFormatError } from '../model/errors';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { openNodeGpuBackend } from './gpu';

const USAGE = `usage: depass --model PATH --prompt TEXT [options]
  --model PATH         Hugging Face folder, or llama2.c .bin (with --tokenizer)
  --tokenizer PATH     tokenizer.bin for a llama2.c model (default: beside the .bin)
  --prompt TEXT        the prompt (BOS is added as the tokenizer says)
  --modes LIST         token,head,neuron,module,subspace (default token)
  --layer N            layer for neuron, module and subspace modes (default: last)
  --positions P        all | last | 0,3,7 (default all)
  --target ID          explain this token id instead of each position's prediction
  --contrast ID        explain logit(target) - logit(ID)
  --rule R             softmax (default, tau 0.1) | proportional
  --tau X              softmax temperature (default 0.1)
  --group N            neurons per grouped pass in neuron mode
  --head-map F         per-layer (default: one head-mode pass per layer) | one-pass (every layer's heads
                       in one pass: the same map under --rule proportional, a close one under softmax)
  --layer-detail       add the per-layer read-out and the logit lens
  --backend B          webgpu | cpu (default: webgpu when an adapter exists)
  --out FILE           write the JSON here (default stdout)`;

class UsageError extends Error {}

const MODES: Mode[] = ['token', 'head', 'neuron', 'module', 'subspace'];

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} expects an integer, got '${v}'`);
  return Number(v);
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        tokenizer: { type: 'string' },
        prompt: { type: 'string' },
        modes: { type: 'string', default: 'token' },
        layer: { type: 'string' },
        positions: { type: 'string', default: 'all' },
        target: { type: 'string' },
        contrast: { type: 'string' },
        rule: { type: 'string', default: 'softmax' },
        tau: { type: 'string' },
        group: { type: 'string' },
        'head-map': { type: 'string', default: 'per-layer' },
        'layer-detail': { type: 'boolean', default: false },
        backend: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!values.model) throw new UsageError('--model is required');
  if (values.prompt === undefined) throw new UsageError('--prompt is required');
  const modes = values.modes.split(',').map((m) => m.trim()) as Mode[];
  for (const m of modes) if (!MODES.includes(m)) throw new UsageError(`unknown mode '${m}' (choose from ${MODES.join(', ')})`);
  if (values.rule !== 'softmax' && values.rule !== 'proportional') throw new UsageError(`--rule must be softmax or proportional`);
  const headMap = values['head-map'];
  if (headMap !== 'per-layer' && headMap !== 'one-pass') throw new UsageError(`--head-map must be per-layer or one-pass, got '${headMap}'`);
  let positions: RunOptions['positions'];
  if (values.positions === 'all' || values.positions === 'last') positions = values.positions;
  else positions = values.positions.split(',').map((p) => int('positions', p)!);
  const tau = values.tau === undefined ? undefined : Number(values.tau);
  if (tau !== undefined && !(tau > 0)) throw new UsageError(`--tau must be a positive number, got '${values.tau}'`);
  if (values.backend && values.backend !== 'cpu' && values.backend !== 'webgpu') throw new UsageError(`--backend must be cpu or webgpu`);

  // Every flag is checked before anything is loaded.
  const layer = int('layer', values.layer);
  const target = int('target', values.target);
  const contrast = int('contrast', values.contrast);
  const neuronGroup = int('group', values.group);
  if (neuronGroup !== undefined && neuronGroup < 1) throw new UsageError(`--group must be at least 1`);

  const files = await filesFromPath(values.model, values.tokenizer);
  const checkpoint = await loadCheckpoint(files);
  const tokenizer = await loadTokenizer(files);
  const tokens = tokenizer.encode(values.prompt);

  let backend: AttributionBackend | null = null;
  let adapter: string | undefined;
  if (values.backend !== 'cpu') {
    const gpu = await openNodeGpuBackend(checkpoint);
    if ('backend' in gpu) {
      backend = gpu.backend;
      adapter = gpu.adapter;
    } else if (values.backend === 'webgpu') {
      throw new UsageError(`--backend webgpu: ${gpu.unavailable}`);
    } else {
      process.stderr.write(`depass: ${gpu.unavailable}; using the CPU reference engine\n`);
    }
  }
  backend ??= new CpuBackend(toReferenceModel(checkpoint.description, checkpoint.weights));

  const result = await runDepass(
    backend,
    {
      model: { name: checkpoint.description.name, fingerprint: checkpoint.fingerprint, description: checkpoint.description },
      prompt: values.prompt,
      tokens,
      bosAtZero: tokens.length > 0 && tokens[0].id === tokenizer.bosId && tokenizer.isSpecial(tokens[0].id),
    },
    {
      modes,
      layer,
      positions,
      target,
      contrast,
      rule: values.rule as Rule,
      tau,
      neuronGroup,
      headMap,
      layerDetail: values['layer-detail'],
    },
  );
  if (adapter && result.engine) result.engine.adapter = adapter;
  const json = JSON.stringify(result, null, 1) + '\n';
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json);
  (backend as { destroy?: () => void }).destroy?.();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof RunInputError || err instanceof ModelFormatError) {
      process.stderr.write(`depass: ${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR' || e.code === 'ENOTDIR')) {
      process.stderr.write(`depass: cannot read ${e.path ?? 'the model'}: ${e.code === 'ENOENT' ? 'no such file or folder' : e.code}\n`);
      process.exit(2);
    }
    process.stderr.write(`depass: internal error: ${(e?.message ?? String(err)).split('\n')[0]}\n`);
    process.exit(1);
  },
);
