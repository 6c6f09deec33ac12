// Export report: the run on screen, with its per-layer detail and chosen targets, in one HTML file
// that opens from disk anywhere (the report viewer, served beside the app, filled with the run's
// link fragment). A failure says why in one line beside the button and loses nothing.

import { useState } from 'react';
import { fillReport } from '../share/report';
import { useApp } from '../state';
import { download, exportStem } from './export';
import { fragmentOf, pageAddress } from './run-link';

async function reportText(): Promise<string> {
  const fragment = fragmentOf(useApp.getState(), true);
  if (fragment === null) throw new Error('there is no run to export');
  let template: string;
  try {
    const res = await fetch(new URL('report-template.html', document.baseURI));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    template = await res.text();
  } catch (e) {
    throw new Error(`the report viewer could not be fetched from this app (${(e as Error).message})`, { cause: e });
  }
  return fillReport(template, { fragment, created: new Date().toISOString(), app: pageAddress() });
}

export function ExportReport() {
  const result = useApp((s) => s.result);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!result) return null;
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      const html = await reportText();
      download(new Blob([html], { type: 'text/html' }), `${exportStem(result.model.name, result.prompt)}.html`);
    } catch (e) {
      setError(`Export report: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        onClick={go}
        disabled={busy}
        title="One HTML file with this run and its views, read-only: opens from disk with no network, or inside a notebook"
      >
        {busy ? 'Exporting…' : 'Export report'}
      </button>
      {error && (
        <span className="warning-inline small" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
