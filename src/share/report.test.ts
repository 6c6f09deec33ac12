// Filling the report template and reading it back: the run comes back as written, no text in it
// can end the data block, and a template or data block that is not what the viewer expects ends
// in one message naming what is wrong.

import { describe, expect, it } from 'vitest';
import { MAX_LINK_CHARS } from './permalink/caps';
import { REPORT_FORMAT, ReportError, fillReport, readReport } from './report';

const TEMPLATE = '<!doctype html><html><body><div id="root"></div><script type="application/json" id="depass-run"></script></body></html>';

/** The data block's text as the browser's parser would hand it to the viewer. */
function dataBlock(html: string): string {
  const open = '<script type="application/json" id="depass-run">';
  const at = html.indexOf(open) + open.length;
  // HTML ends a script element at the first "</script" whatever its case.
  const end = html.slice(at).search(/<\/script/i);
  return html.slice(at, at + end);
}

describe('report data block', () => {
  it('reads back what was filled in, even text that looks like markup', () => {
    const data = { fragment: '#run=2.abc', created: '2026-01-02T03:04:05.000Z', app: 'https://example.test/app/?x=</script><script>alert(1)</script>' };
    const html = fillReport(TEMPLATE, data);
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    expect(readReport(dataBlock(html))).toEqual({ format: REPORT_FORMAT, ...data });
    expect(html.startsWith('<!doctype html><html><body><div id="root"></div>')).toBe(true);
  });

  it('refuses a template without exactly one place for the run', () => {
    expect(() => fillReport('<html></html>', { fragment: '#run=2.a', created: '', app: null })).toThrow(ReportError);
    expect(() => fillReport(TEMPLATE + TEMPLATE, { fragment: '#run=2.a', created: '', app: null })).toThrow(/single place/);
  });

  it('refuses a run the viewer could not open', () => {
    expect(() => fillReport(TEMPLATE, { fragment: '#run=2.' + 'a'.repeat(MAX_LINK_CHARS), created: '', app: null })).toThrow(/too large for a report/);
  });

  it('names what is wrong with a damaged data block', () => {
    expect(() => readReport('')).toThrow(/holds no run/);
    expect(() => readReport('{"format":')).toThrow(/not JSON/);
    expect(() => readReport('[]')).toThrow(/format is undefined/);
    expect(() => readReport('{"format":"depass-report/2","fragment":""}')).toThrow(/depass-report\/2/);
    expect(() => readReport(`{"format":"${REPORT_FORMAT}"}`)).toThrow(/no run in it/);
  });

  it('keeps only an http(s) app address for the link back', () => {
    const read = (app: unknown) => readReport(JSON.stringify({ format: REPORT_FORMAT, fragment: '#run=2.a', created: '', app })).app;
    expect(read('https://x.test/')).toBe('https://x.test/');
    expect(read('javascript:alert(1)')).toBeNull();
    expect(read(42)).toBeNull();
  });
});
