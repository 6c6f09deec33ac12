// The app's frame: header with the run export and Share, the side column (model, remembered
// models, prompt, run), the banner of a run opened from a link, the views in a grid, and the
// keyboard shortcuts that belong to the whole page (← → move the selected token, Esc drops pins
// and then the selection).

import { useEffect } from 'react';
import { useApp } from '../state';
import { AblationPanel } from './AblationPanel';
import { ComparePanel } from './ComparePanel';
import { CompareViews } from './CompareViews';
import { LoadPanel } from './LoadPanel';
import { RememberedModels } from './RememberedModels';
import { RunPanel } from './RunPanel';
import { ExportReport } from './ExportReport';
import { generatedView } from './run-link';
import { ShareButton, SharedBanner, useLinkFromLocation } from './Share';
import { RunViews } from './RunViews';
import { download, exportStem, resultBlob } from './export';
import { csvBlob, runCsv } from './export-table';
import { plainText } from './format';
import { useShallow } from 'zustand/react/shallow';
import { withChosenTargets } from '../state/chosen-targets';
import { shownPosition, staleReasons } from '../state/selectors';
import './app.css';

/** Inputs whose arrow keys move a caret or a value; checkboxes, buttons and file inputs have none. */
const TEXT_INPUTS = ['text', 'search', 'number', 'email', 'url', 'password', 'tel', 'range', 'date', 'time', 'datetime-local', 'month', 'week'];

/** Keys typed into a field that uses them belong to the field. */
function typing(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  return el instanceof HTMLInputElement && TEXT_INPUTS.includes(el.type);
}

function ExportJson() {
  const result = useApp((s) => s.result);
  const overrides = useApp((s) => s.overrides);
  const selected = useApp((s) => s.selected);
  const state = useApp((s) => s.resultState);
  const model = useApp((s) => s.result?.model.name ?? s.model?.name ?? 'model');
  const words = useApp((s) => s.words);
  if (!result) return null;
  const position = shownPosition(result, selected);
  const override = overrides.find((o) => o.position === position) ?? null;
  const chosen = overrides.length;
  return (
    <span className="row">
      <button
        type="button"
        onClick={() => {
          const generated = generatedView(useApp.getState());
          download(resultBlob({ ...withChosenTargets(result, overrides), ...(generated ? { generated } : {}) }), `${exportStem(model, result.prompt)}.json`);
        }}
        title={`The run in the result format (depass-result/1): the model's own prediction at every position${
          chosen > 0 ? `, then the ${chosen} chosen target${chosen === 1 ? '' : 's'}` : ''
        }${state !== 'complete' ? `; ${state}` : ''}`}
      >
        Export JSON
      </button>
      <button
        type="button"
        onClick={() => {
          const text = runCsv(useApp.getState());
          if (text !== null) download(csvBlob(text), `${exportStem(model, result.prompt)}.csv`);
        }}
        title={`The run as one table (a row per target, mode, layer and component, with score and share): every mode${
          chosen > 0 ? `, every chosen target` : ''
        }${words ? '; source tokens per word' : ''}`}
      >
        Export CSV
      </button>
      {override && (
        <button
          type="button"
          onClick={() =>
            download(
              resultBlob(override.result),
              `${exportStem(model, result.prompt)}_pos${override.position}-target${override.target}${override.contrast !== null ? `-vs${override.contrast}` : ''}.json`,
            )
          }
          title="The target re-run at the selected position (depass-result/1)"
        >
          Export target JSON
        </button>
      )}
    </span>
  );
}

function Status() {
  const model = useApp((s) => s.model);
  const notice = useApp((s) => s.notice);
  const result = useApp((s) => s.result);
  const shared = useApp((s) => s.shared !== null);
  // Long names are cut with an ellipsis here; the tooltip has the whole line.
  const line =
    shared && result
      ? `shared run of ${plainText(result.model.name)} · ${result.tokens.length} tokens · read-only`
      : model
        ? `${plainText(model.name)} · ${model.backend === 'webgpu' ? 'WebGPU' : 'CPU'}${
            result ? ` · ${result.tokens.length} tokens · max completeness error ${result.completeness.max_abs_error.toExponential(1)}` : ''
          }`
        : null;
  return (
    <span className="status small">
      {notice && (
        <span className="warning-inline" role="status">
          {notice}
        </span>
      )}
      {line !== null ? (
        <span title={line} data-testid="status-line">
          {line}
        </span>
      ) : (
        <span className="muted">no model loaded</span>
      )}
    </span>
  );
}

/** How the views show source tokens: as words, and whether special tokens are set apart. */
function ViewOptions() {
  const has = useApp((s) => s.result?.token !== undefined);
  const words = useApp((s) => s.words);
  const hideSpecial = useApp((s) => s.hideSpecial);
  const setView = useApp((s) => s.setView);
  if (!has) return null;
  return (
    <div className="view-options wide small" role="group" aria-label="How source tokens are shown">
      <label title="Show each word's score: the exact sum of its tokens' scores (heatmap, flow graph, layer chart, summary, exports and links)">
        <input type="checkbox" checked={words} onChange={(e) => setView({ words: e.target.checked })} /> Words
      </label>
      <label title="Leave special tokens (BOS, chat-template markers) out of the views and rankings; their total is shown as one entry. No number changes.">
        <input type="checkbox" checked={hideSpecial} onChange={(e) => setView({ hideSpecial: e.target.checked })} /> Hide special tokens
      </label>
    </div>
  );
}

/** Results that no longer match the prompt, model or settings say so above the views. */
function StaleNote() {
  const reasons = useApp(useShallow(staleReasons));
  if (reasons.length === 0) return null;
  const list = reasons.length === 1 ? reasons[0] : `${reasons.slice(0, -1).join(', ')} and ${reasons[reasons.length - 1]}`;
  return (
    <p className="stale-note wide" role="status" data-testid="stale-note">
      Out of date: {list} changed since this run. The views still show the earlier result; press Run to update them.
    </p>
  );
}

/** Inside another site's frame the app shows only a way out: a framed page could be made to click for you. */
function Framed() {
  return (
    <main className="framed">
      <h1>DePass Studio</h1>
      <p>
        This page was opened inside another page, which DePass Studio does not allow.{' '}
        <a href={location.href} target="_blank" rel="noopener noreferrer">
          Open it in its own tab
        </a>
        .
      </p>
    </main>
  );
}

export function App() {
  return window.top === window.self ? <Studio /> : <Framed />;
}

function Studio() {
  useLinkFromLocation();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || typing(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      const s = useApp.getState();
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        if (!s.result) return;
        e.preventDefault();
        s.move(e.key === 'ArrowLeft' ? -1 : 1);
      } else if (e.key === 'Home' && s.result) {
        e.preventDefault();
        s.select(0);
      } else if (e.key === 'End' && s.result) {
        e.preventDefault();
        s.select(s.result.tokens.length - 1);
      } else if (e.key === 'Escape') {
        s.escape();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const stale = useApp((s) => staleReasons(s).length > 0);

  return (
    <div className="app">
      <header className="topbar">
        <h1>DePass Studio</h1>
        <Status />
        <span className="spacer" />
        <ExportJson />
        <ExportReport />
        <ShareButton />
      </header>
      <aside className="side" aria-label="Model and prompt">
        <LoadPanel />
        <RememberedModels />
        <RunPanel />
        <ComparePanel />
        <p className="keys small muted">Keys: ← → move the selected token · Home/End · Esc clears pins, then the selection · Ctrl+Enter runs.</p>
      </aside>
      <main className={`views${stale ? ' is-stale' : ''}`} aria-label="Attribution views">
        <SharedBanner />
        <StaleNote />
        <ViewOptions />
        <CompareViews />
        <RunViews check={<AblationPanel />} />
      </main>
    </div>
  );
}
