// The `depass` command itself, as a user runs it, on a random Llama-shaped model written to a
// temporary folder as llama2.c files (model.bin and tokenizer.bin): its WebGPU result against its
// CPU-reference result for the same prompt, as src/cli/cli.test.ts compares them on stories260K.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { randomModel } from '../src/model/testing/random-model';
import { toLlama2cBin } from '../src/model/testing/serialize';
import { EXACT } from '../src/gpu/testing/tolerances';
import { compareResults } from './engine-checks';
import type { Tally } from '../src/gpu/testing/tally';

/** tokenizer.bin: uint32 max_token_length, then per piece f32 score, int32 byte length, UTF-8 bytes. */
function llama2cTokenizer(pieces: [string, number][]): Uint8Array {
  const enc = new TextEncoder();
  const raw = pieces.map(([p, s]) => [enc.encode(p), s] as const);
  const out = new Uint8Array(4 + raw.reduce((n, [b]) => n + 8 + b.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.max(...raw.map(([b]) => b.length)), true);
  let off = 4;
  for (const [b, s] of raw) {
    view.setFloat32(off, s, true);
    view.setInt32(off + 4, b.length, true);
    out.set(b, off + 8);
    off += 8 + b.length;
  }
  return out;
}

/** llama2.c's layout (<unk>, <s>, </s>, 256 byte pieces), then letters and a few merges; scores rank the merges. */
function tokenizerPieces(): [string, number][] {
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const words = [' t', 'he', ' the', ' c', 'at', ' cat', ' s', ' sat', ' o', 'on', ' on', ' m', ' mat', 'in', ' in', ' a'];
  return [
    ['<unk>', 0],
    ['\n<s>\n', 0],
    ['\n</s>\n', 0],
    ...Array.from({ length: 256 }, (_, b) => [hex(b), 0] as [string, number]),
    [' ', -100],
    ...letters.map((c, i) => [c, -50 - i] as [string, number]),
    ...words.map((w, i) => [w, -i] as [string, number]),
  ];
}

/** Runs the command `cli` (argv prefix: the node binary and the entry script) with --backend webgpu and cpu and compares. */
export async function checkCli(cli: string[], t: Tally): Promise<void> {
  const pieces = tokenizerPieces();
  const model = randomModel({
    family: 'llama',
    vocab_size: pieces.length,
    hidden_size: 64,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 96,
    num_hidden_layers: 2,
    tie_word_embeddings: true,
    seed: 21,
  });
  const dir = mkdtempSync(join(tmpdir(), 'depass-gpu-check-cli-'));
  try {
    writeFileSync(join(dir, 'model.bin'), toLlama2cBin(model.description, model.weights));
    writeFileSync(join(dir, 'tokenizer.bin'), llama2cTokenizer(pieces));
    const args = ['--model', join(dir, 'model.bin'), '--prompt', 'the cat sat on the mat in the sun', '--modes', 'token,head,neuron,module'];
    const run = (backend: string) => {
      const r = spawnSync(cli[0]!, [...cli.slice(1), ...args, '--backend', backend], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
      t.equal(r.status, 0, `depass --backend ${backend} exit code (stderr: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')})`);
      return JSON.parse(r.stdout) as DepassResult;
    };
    const gpu = run('webgpu');
    const cpu = run('cpu');
    t.equal(gpu.engine?.backend, 'webgpu', 'engine of --backend webgpu');
    t.sameList(
      gpu.tokens.map((x) => x.id),
      cpu.tokens.map((x) => x.id),
      'token ids',
    );
    t.equal(cpu.tokens[0]?.id, 1, 'BOS first');
    compareResults(t, cpu, gpu, EXACT); // llama2.c weights are f32
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
