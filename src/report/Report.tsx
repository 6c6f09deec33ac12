// The report viewer: the app's views of one run, read-only, under a header that says what the run
// is (model, fingerprint, prompt, rule, when it was written) and, when the report came from the app,
// a link that opens the same run there. The keys are the app's: ← → move the selected token,
// Home/End, Esc drops pins and then the selection.

import { useEffect } from 'react';
import type { ReportData } from '../share/report';
import { shortFingerprint } from '../share/snapshot';
import { useApp } from '../state';
import { RunViews } from '../ui/RunViews';
import { plainText } from '../ui/format';
import '../ui/app.css';
import './report.css';

function usePageKeys() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      const s = useApp.getState();
      if (!s.result) return;
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        e.preventDefault();
        s.move(e.key === 'ArrowLeft' ? -1 : 1);
      } else if (e.key === 'Home' || e.key === 'End') {
        e.preventDefault();
        s.select(e.key === 'Home' ? 0 : s.result.tokens.length - 1);
      } else if (e.key === 'Escape') s.escape();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function Report({ data }: { data: ReportData }) {
  usePageKeys();
  const result = useApp((s) => s.result);
  const rule = useApp((s) => s.settings.rule);
  if (!result) return null;
  const created = data.created ? new Date(data.created) : null;
  return (
    <div className="app report">
      <header className="topbar">
        <h1>DePass Studio report</h1>
        <span className="status small" data-testid="report-line">
          {plainText(result.model.name)} · {shortFingerprint(result.model.fingerprint)} · {result.tokens.length} tokens · {rule} rule
          {created && !Number.isNaN(created.getTime()) ? ` · written ${created.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}
        </span>
        <span className="spacer" />
        {data.app && (
          <a href={`${data.app}${data.fragment.startsWith('#') ? '' : '#'}${data.fragment}`} target="_blank" rel="noopener noreferrer">
            Open in DePass Studio
          </a>
        )}
      </header>
      <main className="views" aria-label="Attribution views">
        <p className="wide small muted">
          Prompt: <q>{plainText(result.prompt)}</q>. Read-only: scores carry the digits a link holds; the exact numbers are in the app&apos;s Export JSON and
          CSV.
        </p>
        <RunViews />
      </main>
    </div>
  );
}
