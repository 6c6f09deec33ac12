// ModelFormatError messages stay one short line whatever a hostile file puts in the names and
// values they quote (found by fuzzing: megabyte tensor names and shard names, U+2028 in names).

import { describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';

describe('ModelFormatError', () => {
  it('keeps ordinary messages exactly as written', () => {
    const e = new ModelFormatError('bad-tensor', 'm/model.safetensors', "unknown dtype 'Q4_K'", 'model.norm.weight');
    expect(e.message).toBe("m/model.safetensors (model.norm.weight): unknown dtype 'Q4_K'");
  });

  it('turns every kind of line break into a space', () => {
    for (const br of ['\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\v', '\f']) {
      const e = new ModelFormatError('missing', 'f.json', `a${br}b`, `x${br}y`);
      expect(e.message).toBe('f.json (x y): a b');
    }
  });

  it('cuts a megabyte tensor name and message in the middle, keeping the file and both ends', () => {
    const huge = 'ab'.repeat(500_000);
    const e = new ModelFormatError('missing', 'g/model.safetensors.index.json', `shard '${huge}' is not among the files`, `t${huge}z`);
    expect(e.message.length).toBeLessThan(800);
    expect(e.message.startsWith('g/model.safetensors.index.json (tabab')).toBe(true);
    expect(e.message).toContain('abz): shard');
    expect(e.message.endsWith('is not among the files')).toBe(true);
    expect(e.message).toContain('\u2026');
    expect(e.tensor).toBe(`t${huge}z`); // the field keeps the full name
  });

  it('never cuts inside a surrogate pair', () => {
    const e = new ModelFormatError('bad-json', 'c.json', '\ud83d\ude00'.repeat(10_000));
    expect(e.message).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });
});
