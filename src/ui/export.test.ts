// Export file names: readable, safe, and stable for the same model and prompt.

import { describe, expect, it } from 'vitest';
import { exportStem, resultBlob, slug } from './export';
import { handResult } from '../state/testing';

describe('export names', () => {
  it('slugs keep letters and digits only', () => {
    expect(slug('Once upon a time, there was…')).toBe('once-upon-a-time-there-was');
    expect(slug('Ünïcödé  ✓ test')).toBe('unicode-test');
    expect(slug('   ')).toBe('untitled');
    expect(slug('a'.repeat(100), 10)).toBe('aaaaaaaaaa');
  });

  it('stems name the model, the prompt and the view', () => {
    expect(exportStem('stories260K', 'Once upon a time')).toBe('depass_stories260k_once-upon-a-time');
    expect(exportStem('Qwen/Qwen3-0.6B', 'Hi', 'head grid')).toBe('depass_qwenqwen3-06b_hi_head-grid');
  });

  it('the JSON export is the result object unchanged', async () => {
    const r = handResult();
    expect(JSON.parse(await resultBlob(r).text())).toEqual(r);
  });
});
