// Fuzzes single-file safetensors checkpoints: mutated model.safetensors beside a valid
// config.json, read by the safetensors reader alone (header and every weight tensor, reading no
// byte twice except the 8-byte length prefix) and by loadCheckpoint. Seeds: tiny generated
// models of every family, plus stories260K (../shared) and the demo models when present.

import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/model/checkpoint';
import type { Tensor } from '../src/model/description';
import { isWeightDType, openSafetensorsFile, readSafetensorsTensor, type SafetensorsCheckpoint } from '../src/model/safetensors';
import { checkCheckpoint, checkSafetensors } from './checks';
import { mutateSafetensors } from './formats/safetensors';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { modelMemoryBound, modelRefusalKind, modelRefusalProblem, pickSeed, replaceFile, tryLoadCheckpoint } from './model-cases';
import { missingSeedNote, singleFileSeeds } from './seeds';

const seeds = await singleFileSeeds();
const N = fuzzCount();

interface Loaded {
  ckpt: SafetensorsCheckpoint;
  tensors: Tensor[];
  checkpoint: Checkpoint | null;
}

const suite: FuzzSuite<Loaded> = {
  name: 'safetensors (single file)',
  cases: N,
  seed: fuzzSeed(11),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const weights = seed.files.find((f) => f.path.endsWith('.safetensors'))!;
    const other = pickSeed(rng, seeds).files.find((f) => f.path.endsWith('.safetensors'))!;
    const m = mutateSafetensors(rng, weights.bytes, other.bytes);
    const alone = countedFiles([{ path: weights.path, bytes: m.value }]);
    const folder = countedFiles(replaceFile(seed.files, weights.path, m.value));
    const paths = folder.files.map((f) => f.path);
    return {
      label: `${seed.name}: ${m.ops.join('; ')}`,
      inputBytes: folder.bytes,
      names: paths,
      async load() {
        let direct: { ckpt: SafetensorsCheckpoint; tensors: Tensor[] } | null = null;
        let directError: unknown = null;
        try {
          const ckpt = await openSafetensorsFile(alone.files[0]!);
          const tensors: Tensor[] = [];
          for (const e of ckpt.entries.values()) if (isWeightDType(e.dtype)) tensors.push(await readSafetensorsTensor(e));
          direct = { ckpt, tensors };
        } catch (e) {
          directError = e;
        }
        const full = await tryLoadCheckpoint(folder.files);
        // Both readers must refuse properly; the reader's own refusal is the one reported.
        if ('error' in full && modelRefusalProblem(full.error, paths)) throw full.error;
        if (directError) throw directError;
        if ('error' in full) throw full.error;
        return { ...direct!, checkpoint: full.checkpoint };
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

describe('fuzz: safetensors (single file)', () => {
  it(`${N} mutated files load consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.3);
  });
});
