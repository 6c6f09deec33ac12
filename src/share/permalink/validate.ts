// Small validators for a decoded link's JSON head: each checks one value's type and range and
// names what is wrong, in the user's terms, by throwing a LinkError. Not the caps (caps.ts) and
// not what each field must be (read-*.ts).

import { MAX_NEURONS, MAX_TEXT } from './caps';
import { LinkError } from './format';

export const bad = (what: string): never => {
  throw new LinkError(`this link is damaged: ${what}`);
};
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export function int(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(what);
  return v as number;
}
export function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what);
  return v as number;
}
export function str(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.length > max) bad(what);
  return v as string;
}
export function arr(v: unknown, what: string, len?: number, max = MAX_NEURONS * 4): unknown[] {
  if (!Array.isArray(v) || v.length > max || (len !== undefined && v.length !== len)) bad(what);
  return v as unknown[];
}
