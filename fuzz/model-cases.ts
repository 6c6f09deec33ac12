// Pieces the model-file suites share: judging a refusal as a ModelFormatError that names one of
// the case's files, running loadCheckpoint on a case, and the memory bound for model inputs.

import { loadCheckpoint, type Checkpoint } from '../src/model/checkpoint';
import { ModelFormatError } from '../src/model/errors';
import type { ModelFile } from '../src/model/files';
import { refusalProblem } from './harness';
import type { Rng } from './rng';
import type { Seed, SeedFile } from './seeds';

/** Null when `e` is a one-line ModelFormatError whose message starts with one of `paths` (and its `file` is that path). */
export function modelRefusalProblem(e: unknown, paths: readonly string[]): string | null {
  const problem = refusalProblem(
    e,
    ModelFormatError,
    paths.flatMap((p) => [`${p}: `, `${p} (`]),
  );
  if (problem) return problem;
  const err = e as ModelFormatError;
  if (!paths.includes(err.file)) return `error names '${err.file}', which is not among the case's files`;
  if (!err.message.startsWith(`${err.file}: `) && !err.message.startsWith(`${err.file} (`)) return `message does not start with its own file '${err.file}'`;
  return null;
}

export function modelRefusalKind(e: unknown): string {
  return e instanceof ModelFormatError ? e.code : 'other';
}

/**
 * ArrayBuffer growth allowed for a model input: a load keeps the weights (one copy of the data),
 * GPT-2 transposes make a second, the fingerprint and header reads a third, plus the reads'
 * garbage not yet collected; 16 MiB covers the runtime's own buffers.
 */
export function modelMemoryBound(inputBytes: number): number {
  return 6 * inputBytes + 16 * 1024 * 1024;
}

/** loadCheckpoint, or the error it ended in. */
export async function tryLoadCheckpoint(files: ModelFile[]): Promise<{ checkpoint: Checkpoint } | { error: unknown }> {
  try {
    return { checkpoint: await loadCheckpoint(files) };
  } catch (error) {
    return { error };
  }
}

/** Picks a seed, real files (slower, larger) a quarter as often as generated ones. */
export function pickSeed(rng: Rng, seeds: readonly Seed[]): Seed {
  return rng.weighted(seeds.map((s) => [s.name.startsWith('tiny') || s.name.startsWith('synthetic') ? 4 : 1, s] as const));
}

/** The seed's files with `path` replaced by `bytes` (or removed when bytes is null). */
export function replaceFile(files: readonly SeedFile[], path: string, bytes: Uint8Array<ArrayBuffer> | null): SeedFile[] {
  return files.flatMap((f) => (f.path !== path ? [f] : bytes ? [{ path, bytes }] : []));
}
