// Typed reads of a config.json's keys: every failure is a one-line ModelFormatError naming the
// file and the key. Shared by the family describers in config.ts.

import type { DType } from './description';
import { ModelFormatError } from './errors';

/** Largest dimension we accept; anything bigger is a broken file, not a model. */
const MAX_DIM = 2 ** 31 - 1;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message quotes it: short, and safe for any parsed JSON (100000-deep nesting too). */
function shown(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = Array.isArray(v) ? '[...]' : '{...}'; // nested too deep to print
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Typed reads of config keys; every failure names the file and the key. */
export class ConfigReader {
  constructor(
    readonly c: Record<string, unknown>,
    readonly file: string,
    /** Path of this object inside the config, for messages ('rope_scaling.'). */
    readonly prefix = '',
  ) {}

  fail(key: string, message: string): never {
    throw new ModelFormatError('bad-json', this.file, `'${this.prefix}${key}' ${message}`);
  }

  has(key: string): boolean {
    return this.c[key] !== undefined && this.c[key] !== null;
  }

  /** A positive integer; absent or null gives `fallback`, or an error when there is none. */
  dim(key: string, fallback?: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ModelFormatError('bad-json', this.file, `missing key '${key}'`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `must be an integer, got ${shown(v)}`);
    if (v <= 0) this.fail(key, `must be positive, got ${v}`);
    if (v > MAX_DIM) this.fail(key, `= ${v} is out of range`);
    return v;
  }

  positive(key: string, fallback: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, `must be a positive number, got ${shown(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${shown(v)}`);
    return v;
  }

  tokenId(key: string, fallback: number | null): number | null {
    const v = this.c[key];
    if (v === undefined) return fallback;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(key, `must be a token id, got ${shown(v)}`);
    return v;
  }

  tokenIds(key: string, fallback: number | null): number[] {
    const v = this.c[key];
    if (Array.isArray(v)) {
      return v.map((x) => {
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) this.fail(key, `must hold token ids, got ${shown(x)}`);
        return x;
      });
    }
    const id = this.tokenId(key, fallback);
    return id === null ? [] : [id];
  }

  /** A positive number that must be there. */
  required(key: string): number {
    if (!this.has(key)) throw new ModelFormatError('bad-json', this.file, `missing key '${this.prefix}${key}'`);
    return this.positive(key, NaN);
  }

  /** A positive number, null (when the key says "none"), or `fallback` when absent. */
  optionalPositive(key: string, fallback: number | null): number | null {
    const v = this.c[key];
    if (v === undefined) return fallback;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, `must be a positive number or null, got ${shown(v)}`);
    return v;
  }

  /** A number in (0, 1] (partial rotary fractions). */
  fraction(key: string, fallback: number): number {
    const v = this.positive(key, fallback);
    if (v > 1) this.fail(key, `must be at most 1, got ${v}`);
    return v;
  }

  /** An object, or undefined when absent or null. */
  object(key: string): Record<string, unknown> | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) this.fail(key, `must be an object or null, got ${shown(v)}`);
    return v;
  }

  /** A reader of a nested object, whose errors name `key.sub`. */
  nested(key: string): ConfigReader | undefined {
    const o = this.object(key);
    return o && new ConfigReader(o, this.file, `${this.prefix}${key}.`);
  }

  string(key: string): string | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${shown(v)}`);
    return v;
  }
}

/** A list of numbers (RoPE factors), each finite and positive. */
export function positiveList(r: ConfigReader, key: string): number[] {
  const v = r.c[key];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0)) {
    r.fail(key, `must be a list of positive numbers, got ${shown(v)}`);
  }
  return v as number[];
}

export function unsupported(file: string, message: string): never {
  throw new ModelFormatError('unsupported', file, message);
}

export function mismatch(file: string, message: string): never {
  throw new ModelFormatError('mismatch', file, message);
}

const TORCH_DTYPES: Readonly<Record<string, DType>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

/** The weights' dtype the config names (older `torch_dtype` or newer `dtype`). */
export function dtypeOf(r: ConfigReader): DType {
  const v = r.c['torch_dtype'] ?? r.c['dtype'];
  return (typeof v === 'string' && TORCH_DTYPES[v]) || 'F32';
}
