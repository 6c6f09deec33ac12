// The app's frame: header with the run export and Share, the side column (model, remembered
// models, prompt, run), the banner of a run opened from a link, the views in a grid, and the
// keyboard shortcuts that belong to the whole page (← → move the selected token, Esc drops pins
// and then the selection).

import { useEffect } from 'react';
import { useApp } from '../state';
import { AblationPanel } from './AblationPanel';
import { FlowGraph } from './FlowGraph';
import { HeadGrid } from './HeadGrid';
import { LayerChart } from './LayerChart';
import { LoadPanel } from './LoadPanel';
import { LogitLens } from './LogitLens';
import { ModuleView, NeuronView } from './NeuronView';
import { PredictionPanel } from './PredictionPanel';
import { RememberedModels } from './RememberedModels';
import { RunPanel } from './RunPanel';
import { ShareButton, SharedBanner, useLinkFromLocation } from './Share';
import { Summary } from './Summary';
import { TokenHeatmap } from './TokenHeatmap';
import { download, exportStem, resultBlob } from './export';
import './app.css';

/** Keys typed into a field belong to the field. */
function typing(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

function ExportJson() {
  const result = useApp((s) => s.result);
  const override = useApp((s) => s.override);
  const state = useApp((s) => s.resultState);
  const model = useApp((s) => s.result?.model.name ?? s.model?.name ?? 'model');
  if (!result) return null;
  return (
    <span className="row">
      <button
        type="button"
        onClick={() => download(resultBlob(result), `${exportStem(model, result.prompt)}.json`)}
        title={`The run as returned by the engine (depass-result/1)${state !== 'complete' ? `; ${state}` : ''}`}
      >
        Export JSON
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
  return (
    <span className="status small">
      {notice && (
        <span className="warning-inline" role="status">
          {notice}
        </span>
      )}
      {shared && result ? (
        <span>
          shared run of {result.model.name} · {result.tokens.length} tokens · read-only
        </span>
      ) : model ? (
        <span>
          {model.name} · {model.backend === 'webgpu' ? 'WebGPU' : 'CPU'}
          {result ? ` · ${result.tokens.length} tokens · max completeness error ${result.completeness.max_abs_error.toExponential(1)}` : ''}
        </span>
      ) : (
        <span className="muted">no model loaded</span>
      )}
    </span>
  );
}

export function App() {
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

  return (
    <div className="app">
      <header className="topbar">
        <h1>DePass Studio</h1>
        <Status />
        <span className="spacer" />
        <ExportJson />
        <ShareButton />
      </header>
      <aside className="side" aria-label="Model and prompt">
        <LoadPanel />
        <RememberedModels />
        <RunPanel />
        <p className="keys small muted">Keys: ← → move the selected token · Home/End · Esc clears pins, then the selection · Ctrl+Enter runs.</p>
      </aside>
      <main className="views" aria-label="Attribution views">
        <SharedBanner />
        <div className="wide">
          <TokenHeatmap />
          <Summary />
        </div>
        <PredictionPanel />
        <AblationPanel />
        <div className="wide">
          <HeadGrid />
        </div>
        <div className="wide">
          <FlowGraph />
        </div>
        <LayerChart />
        <LogitLens />
        <NeuronView />
        <ModuleView />
      </main>
    </div>
  );
}
