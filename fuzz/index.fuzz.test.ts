// Fuzzes sharded checkpoints: model.safetensors.index.json with tensors moved, dropped, invented
// or pointed outside the folder, shards missing or moved, and damaged shards, read by the index
// reader alone (every listed tensor) and by loadCheckpoint. Seeds: tiny Qwen3, Llama and GPT-2
// ("transformer." prefix) folders in two or three shards.

import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/model/checkpoint';
import type { Tensor } from '../src/model/description';
import { isWeightDType, openSafetensorsIndex, readSafetensorsTensor, type SafetensorsCheckpoint } from '../src/model/safetensors';
import { checkCheckpoint, checkSafetensors } from './checks';
import { mutateSafetensors } from './formats/safetensors';
import { mutateIndex } from './formats/shard-index';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { serialiseJson } from './json';
import { modelMemoryBound, modelRefusalKind, modelRefusalProblem, replaceFile, tryLoadCheckpoint } from './model-cases';
import type { Rng } from './rng';
import { shardedSeeds, type Seed, type SeedFile } from './seeds';

const seeds = await shardedSeeds();
const N = fuzzCount();
const INDEX = 'model.safetensors.index.json';

interface Loaded {
  ckpt: SafetensorsCheckpoint;
  tensors: Tensor[];
  checkpoint: Checkpoint | null;
}

/** The folder with the index damaged, its file list changed, or one shard damaged. */
function mutateFolder(rng: Rng, seed: Seed): { files: SeedFile[]; ops: string[] } {
  const index = seed.files.find((f) => f.path.endsWith(INDEX))!;
  const shards = seed.files.filter((f) => f.path.endsWith('.safetensors'));
  const dir = index.path.slice(0, index.path.length - INDEX.length);
  return rng.weighted<() => { files: SeedFile[]; ops: string[] }>([
    [
      6,
      () => {
        const json = JSON.parse(new TextDecoder().decode(index.bytes)) as Record<string, unknown>;
        const m = mutateIndex(
          rng,
          json,
          shards.map((s) => s.path.slice(dir.length)),
        );
        const text = serialiseJson(rng, m.value, 0.2);
        return { files: replaceFile(seed.files, index.path, text.value), ops: [...m.ops, ...text.ops] };
      },
    ],
    [
      2,
      () => {
        const shard = rng.pick(shards);
        return rng.weighted<() => { files: SeedFile[]; ops: string[] }>([
          [2, () => ({ files: replaceFile(seed.files, shard.path, null), ops: [`${shard.path} removed`] })],
          [1, () => ({ files: seed.files.map((f) => (f === shard ? { ...f, path: `other/${f.path}` } : f)), ops: [`${shard.path} moved to another folder`] })],
          [
            1,
            () => ({
              files: seed.files.map((f) => (f === shard ? { ...f, bytes: rng.pick(shards).bytes } : f)),
              ops: [`${shard.path} holds another shard's bytes`],
            }),
          ],
          [1, () => ({ files: [...seed.files, { path: `${dir}model.safetensors`, bytes: shard.bytes }], ops: ['a stray model.safetensors beside the index'] })],
          [1, () => ({ files: [...seed.files, { ...index, path: `${dir}sub/${INDEX}` }], ops: ['a second index in a subfolder'] })],
        ])();
      },
    ],
    [
      3,
      () => {
        const shard = rng.pick(shards);
        const m = mutateSafetensors(rng, shard.bytes, rng.pick(shards).bytes);
        return { files: replaceFile(seed.files, shard.path, m.value), ops: m.ops.map((o) => `${shard.path}: ${o}`) };
      },
    ],
  ])();
}

const suite: FuzzSuite<Loaded> = {
  name: 'sharded index',
  cases: N,
  seed: fuzzSeed(13),
  makeCase(rng) {
    const seed = rng.pick(seeds);
    const { files, ops } = mutateFolder(rng, seed);
    const alone = countedFiles(files);
    const folder = countedFiles(files);
    const index = alone.files.find((f) => f.path === seed.files.find((s) => s.path.endsWith(INDEX))!.path);
    return {
      label: `${seed.name}: ${ops.join('; ')}`,
      inputBytes: folder.bytes,
      names: folder.files.map((f) => f.path),
      async load() {
        let direct: { ckpt: SafetensorsCheckpoint; tensors: Tensor[] } | null = null;
        let directError: unknown = null;
        if (index) {
          try {
            const ckpt = await openSafetensorsIndex(index, alone.files);
            const tensors: Tensor[] = [];
            for (const e of ckpt.entries.values()) if (isWeightDType(e.dtype)) tensors.push(await readSafetensorsTensor(e));
            direct = { ckpt, tensors };
          } catch (e) {
            directError = e;
          }
        }
        const full = await tryLoadCheckpoint(folder.files);
        if ('error' in full && modelRefusalProblem(full.error, this.names)) throw full.error;
        if (directError) throw directError;
        if ('error' in full) throw full.error;
        if (!direct) throw new Error('loadCheckpoint loaded a sharded folder without its index');
        return { ...direct, checkpoint: full.checkpoint };
      },
      check(r) {
        checkSafetensors(r.ckpt, r.tensors);
        if (r.checkpoint) checkCheckpoint(r.checkpoint);
      },
      readProblem: () => readsWithin(alone, 1, 8) ?? readsWithin(folder, 3, 64),
    };
  },
  judgeError: (e, c) => modelRefusalProblem(e, c.names),
  refusalKind: modelRefusalKind,
  memoryBound: modelMemoryBound,
};

describe('fuzz: sharded index', () => {
  it(`${N} mutated sharded folders load consistently or end in a one-line ModelFormatError naming a file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(formatReport(report));
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.3);
  });
});
