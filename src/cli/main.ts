// The `depass` command-line tool: loads a model from disk once, runs DePass in Node (WebGPU through
// Dawn when an adapter exists, else the TypeScript reference) on one prompt or on a JSONL file of
// requests (batch.ts), and writes the result JSON. Bad input ends in one line on stderr and exit
// code 2, never a stack trace.

import { accessSync, constants, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AttributionBackend } from '../depass/backend';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import type { DepassResult, Mode, Rule } from '../depass/result';
import { runDepass, RunInputError, type RunOptions } from '../depass/run';
import { resultRows, toCsv } from '../depass/table';
import type { ModelDescription } from '../model/description';
import { encodeRun } from '../share/permalink/encode';
import { fillReport } from '../share/report';
import { snapshotRun } from '../share/snapshot';
import { reportTemplate } from './report-template';
import { openCheckpoint } from '../model/checkpoint';
import { weightsInMemory } from '../model/stored-tensor';
import { ModelFormatError } from '../model/errors';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { LineError, MODES, parseShard, runBatch, type BatchRequest } from './batch';
import { openNodeGpuBackend } from './gpu';

const USAGE = `usage: depass --model PATH --prompt TEXT [options]
       depass --model PATH --prompts FILE.jsonl --out RESULTS.jsonl [--shard k/n] [options]
  --model PATH         Hugging Face folder, or llama2.c .bin (with --tokenizer)
  --tokenizer PATH     tokenizer.bin for a llama2.c model (default: beside the .bin)
  --prompt TEXT        the prompt (BOS is added as the tokenizer says)
  --prompts FILE       one request per line: {"prompt": ..., "id", "target", "contrast",
                       "positions", "modes"} (all but prompt optional; without an id, the line
                       number is the id); one result per line is appended to --out as each
                       finishes, ids already there are skipped, malformed lines are reported
                       and skipped; the flags below are the defaults of every request
  --shard k/n          with --prompts: only every n-th request, starting with the k-th (1-based)
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
  --format F           json (default) | csv: one tidy row per target, mode, layer and component
                       (columns in docs/result-format.md) | html: a self-contained report that
                       opens from disk (the app's views, read-only); with --prompts: JSONL
  --out FILE           write the result here (default stdout; required with --prompts)`;

class UsageError extends Error {}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} expects an integer, got '${v}'`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        tokenizer: { type: 'string' },
        prompt: { type: 'string' },
        prompts: { type: 'string' },
        shard: { type: 'string' },
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
        format: { type: 'string', default: 'json' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!values.model) throw new UsageError('--model is required');
  const batch = values.prompts !== undefined;
  if (batch && values.prompt !== undefined) throw new UsageError('give --prompt or --prompts, not both');
  if (!batch && values.prompt === undefined) throw new UsageError('--prompt (or --prompts FILE) is required');
  if (batch && !values.out) throw new UsageError('--prompts needs --out FILE (results are appended there, and a re-run skips what is in it)');
  if (!['json', 'csv', 'html'].includes(values.format)) throw new UsageError(`--format must be json, csv or html, got '${values.format}'`);
  if (batch && values.format !== 'json')
    throw new UsageError('--prompts writes JSONL (one result per line, so that a re-run can resume); convert it to a table afterwards');
  if (values.shard !== undefined && !batch) throw new UsageError('--shard goes with --prompts');
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
  let shard = { k: 1, n: 1 };
  if (values.shard !== undefined) {
    try {
      shard = parseShard(values.shard);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (batch) {
    try {
      accessSync(values.prompts!, constants.R_OK);
    } catch {
      throw new UsageError(`cannot read the prompts file ${values.prompts}`);
    }
  }
  const defaults: RunOptions = {
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
  };

  // The model, its tokenizer and the backend: once per process, whatever the number of prompts.
  const files = await filesFromPath(values.model, values.tokenizer);
  // Weights stay in the files until an engine reads them: the GPU engine streams them in pieces.
  const checkpoint = await openCheckpoint(files);
  const tokenizer = await loadTokenizer(files);

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
  backend ??= new CpuBackend(toReferenceModel(checkpoint.description, await weightsInMemory(checkpoint.weights)));
  const engine = backend;

  const run = async (prompt: string, options: RunOptions) => {
    const tokens = tokenizer.encode(prompt);
    const result = await runDepass(
      engine,
      {
        model: { name: checkpoint.description.name, fingerprint: checkpoint.fingerprint, description: checkpoint.description },
        prompt,
        tokens,
        bosAtZero: tokens.length > 0 && tokens[0].id === tokenizer.bosId && tokenizer.isSpecial(tokens[0].id),
      },
      options,
    );
    if (adapter && result.engine) result.engine.adapter = adapter;
    return result;
  };

  try {
    if (!batch) {
      const result = await run(values.prompt!, defaults);
      const tokenText = (id: number) => tokenizer.tokenText(id);
      const text =
        values.format === 'csv'
          ? toCsv(resultRows(result, { tokenText }))
          : values.format === 'html'
            ? await reportOf(result, defaults, checkpoint.description, tokenText)
            : JSON.stringify(result, null, 1) + '\n';
      if (values.out) writeFileSync(values.out, text);
      else await writeOut(text);
      return 0;
    }
    const summary = await runBatch({
      prompts: values.prompts!,
      out: values.out!,
      shard,
      run: (req: BatchRequest) =>
        run(req.prompt, {
          ...defaults,
          ...(req.modes ? { modes: req.modes } : {}),
          ...(req.positions ? { positions: req.positions } : {}),
          ...(req.target !== undefined ? { target: req.target } : {}),
          ...(req.contrast !== undefined ? { contrast: req.contrast } : {}),
        }),
      isRequestError: (e) => e instanceof RunInputError || e instanceof ModelFormatError,
      log: logLine,
      progress: showProgress,
    });
    return summary.failed > 0 ? 1 : 0;
  } finally {
    (engine as { destroy?: () => void }).destroy?.();
  }
}

/** The run as a report: what a link of it would hold (last position selected), in the viewer. */
async function reportOf(result: DepassResult, options: RunOptions, model: ModelDescription, tokenText: (id: number) => string): Promise<string> {
  const run = snapshotRun({
    result,
    overrides: [],
    settings: { modes: options.modes ?? ['token'], rule: options.rule ?? 'softmax', layer: options.layer ?? null, layerDetail: options.layerDetail ?? false },
    selected: result.tokens.length - 1,
    pinnedHead: null,
    pinnedNeuron: null,
    flowThreshold: 0.1,
    vocab: Array.from({ length: model.vocab_size }, (_, id) => tokenText(id)),
    layers: model.num_hidden_layers,
    vocabSize: model.vocab_size,
  });
  const template = await reportTemplate(resolve(import.meta.dirname, '../..'), logLine);
  return fillReport(template, { fragment: encodeRun(run), created: new Date().toISOString(), app: null });
}

/** Whether a progress line is on the terminal without its newline yet. */
let progressShown = false;
let lastProgress = -Infinity;

/** A message on a line of its own (after an unfinished progress line, if any). */
function logLine(line: string): void {
  process.stderr.write(`${progressShown ? '\n' : ''}depass: ${line}\n`);
  progressShown = false;
}

/** The progress line: rewritten in place on a terminal, else printed at most once a second. */
function showProgress(line: string, final: boolean): void {
  if (process.stderr.isTTY) {
    process.stderr.write(`\r\x1b[Kdepass: ${line}${final ? '\n' : ''}`);
    progressShown = !final;
    return;
  }
  const t = performance.now();
  if (!final && t - lastProgress < 1000) return;
  lastProgress = t;
  process.stderr.write(`depass: ${line}\n`);
}

/**
 * Stdout in full before the exit: on a pipe the write is asynchronous, and process.exit would cut
 * off a report (hundreds of KB) that is still in Node's buffer.
 */
function writeOut(text: string): Promise<void> {
  return new Promise((done, fail) => process.stdout.write(text, (err) => (err ? fail(err) : done())));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof RunInputError || err instanceof ModelFormatError || err instanceof LineError) {
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
