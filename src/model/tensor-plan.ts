// The tensors a description calls for: found by name under the checkpoint's optional prefixes,
// checked for presence, dtype and shape before any weight is read, then read in one go. Every
// failure is a one-line ModelFormatError naming the file and the tensor.

import type { ModelDescription, StoredTensor } from './description';
import { ModelFormatError } from './errors';
import { isWeightDType, type SafetensorsCheckpoint, type SafetensorsEntry, storedSafetensorsTensor } from './safetensors';

/** A tensor the description calls for: where it is and the shape it must have. */
export interface Wanted {
  entry: SafetensorsEntry;
  shape: number[];
}

/**
 * Finds tensors by their name without the checkpoint's optional prefix ("model." for the Llama
 * families, "transformer." for GPT-2), checks them, and remembers what to read.
 */
export class TensorPlan {
  readonly wanted: Wanted[] = [];
  /** The prefix this checkpoint uses, for naming a missing tensor as the file would. */
  private readonly shownPrefix: string;

  constructor(
    readonly d: ModelDescription,
    readonly ckpt: SafetensorsCheckpoint,
    readonly configPath: string,
    readonly weightsPath: string,
    readonly prefixes: string[],
  ) {
    const names = [...ckpt.entries.keys()];
    // The prefix in use; none when the file has tensors but none prefixed; the usual one for an empty file.
    this.shownPrefix = prefixes.find((p) => p !== '' && names.some((n) => n.startsWith(p))) ?? (names.length > 0 ? '' : prefixes[0]!);
  }

  /** `top`: a name outside the prefixed body (lm_head), looked up exactly. */
  find(name: string, top = false): SafetensorsEntry | undefined {
    if (top) return this.ckpt.entries.get(name);
    for (const p of this.prefixes) {
      const e = this.ckpt.entries.get(p + name);
      if (e) return e;
    }
    return undefined;
  }

  /** Requires `name` with `shape` (labels name the dimensions in messages). */
  need(name: string, shape: number[], labels: string, top = false): Wanted {
    const entry = this.find(name, top);
    if (!entry) {
      const shown = top ? name : this.shownPrefix + name;
      throw new ModelFormatError('missing', this.weightsPath, `tensor is missing (${this.configPath} calls for ${labels} = [${shape.join(', ')}])`, shown);
    }
    if (!isWeightDType(entry.dtype)) {
      throw new ModelFormatError('unsupported', entry.file.path, `dtype ${entry.dtype} is not supported for weights (F32, F16 or BF16 only)`, entry.name);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((v, i) => v !== shape[i])) {
      throw new ModelFormatError(
        'mismatch',
        entry.file.path,
        `shape [${entry.shape.join(', ')}] does not match ${this.configPath}, which implies ${labels} = [${shape.join(', ')}]`,
        entry.name,
      );
    }
    const w = { entry, shape };
    this.wanted.push(w);
    return w;
  }

  /** A tensor the description says must not exist. */
  forbid(name: string, reason: string): void {
    const entry = this.find(name);
    if (entry) throw new ModelFormatError('mismatch', entry.file.path, `tensor is present but ${this.configPath} says ${reason}`, entry.name);
  }

  /** No tensor may belong to a layer beyond the configured count. */
  checkLayerCount(pattern: RegExp): void {
    for (const name of this.ckpt.entries.keys()) {
      const m = pattern.exec(name);
      if (m && Number(m[1]) >= this.d.num_hidden_layers) {
        const entry = this.ckpt.entries.get(name)!;
        throw new ModelFormatError('mismatch', entry.file.path, `tensor of layer ${m[1]} but ${this.configPath} has ${this.d.num_hidden_layers} layers`, name);
      }
    }
  }
}

/** Every planned tensor, left in its file (after all checks passed); keyed by the plan entries. */
export function storedAll(plan: TensorPlan): Map<Wanted, StoredTensor> {
  const out = new Map<Wanted, StoredTensor>();
  for (const w of plan.wanted) out.set(w, storedSafetensorsTensor(w.entry));
  return out;
}
