// A small CSV reader for the tests, written from RFC 4180 (quoted cells, doubled quotes, line
// breaks inside quotes), independent of the table writer it checks (src/depass/table.ts).

/** The rows of `text`; throws when the text does not end with a line break (a cut-off table). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (row.length > 0 || cell !== '') throw new Error('the CSV does not end with a line break');
  return rows;
}

/** The rows after the header, as records keyed by the header's names. */
export function csvRecords(text: string): Record<string, string>[] {
  const [head = [], ...body] = parseCsv(text);
  return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]!])));
}
