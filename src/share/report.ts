// A report: the report viewer's HTML (built by vite.report.config.ts) with one run in it, as a
// link's fragment inside a JSON data block that the browser never executes. Filling and reading
// that block; not the viewer (src/report) and not the fragment's codec (permalink/).

import { MAX_LINK_CHARS } from './permalink/caps';

export const REPORT_FORMAT = 'depass-report/1';

/** The empty data block the template holds exactly once; filling puts the run inside it. */
const SLOT = '<script type="application/json" id="depass-run"></script>';

export interface ReportData {
  format: typeof REPORT_FORMAT;
  /** The run as a link's fragment ("#run=2.…"), so that a report shows what the link would. */
  fragment: string;
  /** When the report was written (ISO 8601). */
  created: string;
  /** The app's address the run came from, for "Open in DePass Studio"; null from the CLI. */
  app: string | null;
}

export class ReportError extends Error {
  override readonly name = 'ReportError';
}

/** The template with the run in its data block. `<` is escaped so no text can end the block. */
export function fillReport(template: string, data: Omit<ReportData, 'format'>): string {
  // The viewer decodes the run as it decodes a link, under the same caps.
  if (data.fragment.length > MAX_LINK_CHARS)
    throw new ReportError(
      `this run is too large for a report (${data.fragment.length} characters; at most ${MAX_LINK_CHARS}): leave out neuron mode or the per-layer detail, or use Export JSON`,
    );
  const at = template.indexOf(SLOT);
  if (at < 0 || template.indexOf(SLOT, at + 1) >= 0) throw new ReportError('the report template has no single place for the run (rebuild it)');
  const json = JSON.stringify({ format: REPORT_FORMAT, ...data } satisfies ReportData).replaceAll('<', '\\u003c');
  return template.slice(0, at) + SLOT.replace('></', `>${json}</`) + template.slice(at + SLOT.length);
}

/** The data block's text read back, checked field by field. */
export function readReport(text: string | null | undefined): ReportData {
  if (!text || !text.trim()) throw new ReportError('this report holds no run (it is the empty viewer)');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ReportError('this report is damaged: its run is not JSON');
  }
  const d = raw as Partial<ReportData> | null;
  if (!d || typeof d !== 'object') throw new ReportError('this report is damaged: no run');
  if (d.format !== REPORT_FORMAT) throw new ReportError(`this report's format is ${JSON.stringify(d.format)}; this viewer reads ${REPORT_FORMAT}`);
  if (typeof d.fragment !== 'string') throw new ReportError('this report is damaged: no run in it');
  const app = typeof d.app === 'string' && /^https?:\/\//.test(d.app) ? d.app : null;
  return { format: REPORT_FORMAT, fragment: d.fragment, created: typeof d.created === 'string' ? d.created : '', app };
}
