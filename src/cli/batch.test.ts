// The batch pieces on their own: what a request line may say (and the one-line reason when it is
// not one), --shard k/n, and reading back the ids of an output file a killed job left behind.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishedIds, LineError, parseRequest, parseShard } from './batch';

describe('a request line', () => {
  it('reads every field, and takes the line number as the id when there is none', () => {
    expect(parseRequest('{"prompt":"Once upon a time"}', 7)).toEqual({ id: '7', line: 7, prompt: 'Once upon a time' });
    expect(parseRequest('{"id":42,"prompt":"p","target":5,"contrast":6,"positions":[0,2],"modes":["token","head"]}', 1)).toEqual({
      id: '42',
      line: 1,
      prompt: 'p',
      target: 5,
      contrast: 6,
      positions: [0, 2],
      modes: ['token', 'head'],
    });
    expect(parseRequest('{"prompt":"p","modes":"token, neuron","positions":"last"}', 1)).toMatchObject({ modes: ['token', 'neuron'], positions: 'last' });
  });

  it.each([
    ['{"prompt":', /not valid JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"id":"x"}', /'prompt' must be a non-empty string/],
    ['{"prompt":"p","promt":"q"}', /unknown field 'promt'/],
    ['{"prompt":"p","target":-1}', /'target' must be a token id/],
    ['{"prompt":"p","contrast":1.5}', /'contrast' must be a token id/],
    ['{"prompt":"p","modes":["tokens"]}', /unknown mode "tokens"/],
    ['{"prompt":"p","modes":[]}', /'modes' must be a list/],
    ['{"prompt":"p","positions":"first"}', /'positions' must be/],
    ['{"prompt":"p","id":{"a":1}}', /'id' must be a string or a number/],
  ])('refuses %s', (line, message) => {
    expect(() => parseRequest(line, 3)).toThrow(LineError);
    expect(() => parseRequest(line, 3)).toThrow(message);
  });
});

describe('--shard', () => {
  it('reads k/n with 1 ≤ k ≤ n', () => {
    expect(parseShard('1/4')).toEqual({ k: 1, n: 4 });
    expect(parseShard(' 4/4 ')).toEqual({ k: 4, n: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '-1/4']) expect(() => parseShard(bad), bad).toThrow(/--shard expects k\/n with 1 ≤ k ≤ n/);
  });
});

describe('the ids already in the output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'depass-batch-'));

  it('are read from whole lines; a half-written last line is cut off', async () => {
    const out = join(dir, 'out.jsonl');
    const whole = ['{"id":"a","format":"depass-result/1"}', '{"id":"b\\"q","x":1}', '{"x":2,"id":"c"}'].join('\n') + '\n';
    writeFileSync(out, whole + '{"id":"d","format":"depa');
    const { ids, cut } = await finishedIds(out);
    expect([...ids]).toEqual(['a', 'b"q', 'c']);
    expect(cut).toBe('{"id":"d","format":"depa'.length);
    expect(readFileSync(out, 'utf8')).toBe(whole);
    expect((await finishedIds(join(dir, 'missing.jsonl'))).ids.size).toBe(0);
  });

  it('refuses an output with a line that is not a result', async () => {
    const out = join(dir, 'bad.jsonl');
    writeFileSync(out, '{"id":"a"}\nhello\n');
    await expect(finishedIds(out)).rejects.toThrow(/bad\.jsonl line 2 is not a result of this tool/);
  });
});
