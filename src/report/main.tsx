// Entry point of a report: reads the run from the page's data block, opens it in the store as a
// link would, and mounts the read-only viewer. A report that cannot be read says why in one line.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { useApp } from '../state';
import { decodeRun } from '../share/permalink/decode';
import { readReport } from '../share/report';
import { Report } from './Report';

const root = createRoot(document.getElementById('root')!);
try {
  const data = readReport(document.getElementById('depass-run')?.textContent);
  const run = decodeRun(data.fragment);
  useApp.getState().openShared(run, data.fragment.length);
  root.render(
    <StrictMode>
      <Report data={data} />
    </StrictMode>,
  );
} catch (err) {
  root.render(
    <p role="alert" className="error">
      {err instanceof Error ? err.message : String(err)}
    </p>,
  );
}
