// The prompt and the run: prompt box with its tokens as chips (ids shown, tokenised as you
// type), mode and rule choices, Run (Ctrl+Enter) and Cancel, a progress bar with stage and
// layer, and Generate. All compute happens in the engine worker; this only sends settings and shows state.

import { useEffect, useLayoutEffect, useRef } from 'react';
import { useApp } from '../state';
import type { Mode } from '../depass/result';
import { promptLengthProblem } from '../state/selectors';
import { useDebounced } from './common';
import { clip, num, tokenLabel } from './format';
import { GenerateControls } from './Generate';

const MODES: { mode: Mode; label: string; hint: string }[] = [
  { mode: 'token', label: 'tokens', hint: 'one component per prompt token; explains every position in one pass' },
  { mode: 'head', label: 'heads', hint: 'one pass per layer, one component per attention head' },
  { mode: 'neuron', label: 'neurons', hint: 'the MLP neurons of the chosen layer' },
  { mode: 'module', label: 'modules', hint: 'incoming residual, attention and MLP of the chosen layer' },
];

function TokenChips() {
  const tokens = useApp((s) => s.tokens);
  const tokensFor = useApp((s) => s.tokensFor);
  const prompt = useApp((s) => s.prompt);
  const error = useApp((s) => s.tokenizeError);
  const hasModel = useApp((s) => s.model !== null);
  const max = useApp((s) => s.model?.description.max_position_embeddings ?? Infinity);
  if (!hasModel) return <p className="muted small">Load a model to see the tokens.</p>;
  if (error) return <p className="error small">{error}</p>;
  const stale = tokensFor !== prompt;
  const over = tokens.length > max;
  return (
    <div className={`chips${stale ? ' stale' : ''}`} role="group" aria-label={`${tokens.length} tokens`} aria-busy={stale} data-testid="prompt-tokens">
      <span className={`chip-count num${over ? ' over' : ''}`}>
        {tokens.length} tok{over ? ` (at most ${max})` : ''}
      </span>
      {tokens.map((t, k) => (
        <span
          key={k}
          className={`chip${t.start === t.end ? ' special' : ''}`}
          title={`${tokenLabel(t.text).length > 40 ? `${tokenLabel(t.text)}\n` : ''}position ${k}, id ${t.id}, chars ${t.start}–${t.end}`}
        >
          <span className="chip-text">{clip(tokenLabel(t.text), 40)}</span>
          <span className="chip-id">{t.id}</span>
        </span>
      ))}
    </div>
  );
}

function ProgressBar() {
  const running = useApp((s) => s.running);
  if (!running) return null;
  const p = running.progress;
  const fraction = p ? Math.max(0, Math.min(1, p.fraction)) : 0;
  // Head and neuron stages name their own layer; the counter is then the pass's progress.
  const step = p && p.stage !== 'done' && p.stage !== 'forward' ? ` · ${/layer/.test(p.stage) ? 'step' : 'layer'} ${Math.min(p.layer + 1, p.of)}/${p.of}` : '';
  const stage = p ? `${p.stage}${step}` : 'starting';
  return (
    <div className="progress" role="status" aria-live="polite">
      <div
        className="bar"
        role="progressbar"
        aria-label="Run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
        aria-valuetext={stage}
      >
        <div className="fill" style={{ width: `${fraction * 100}%` }} />
      </div>
      <div className="progress-text small">
        <span>
          {running.kind === 'target' ? 'target re-run: ' : ''}
          {stage}
        </span>
        <span className="num">{Math.round(fraction * 100)}%</span>
      </div>
      {running.modesDone.length > 0 && <div className="small muted">done: {running.modesDone.join(', ')}</div>}
    </div>
  );
}

export function RunPanel() {
  const prompt = useApp((s) => s.prompt);
  const setPrompt = useApp((s) => s.setPrompt);
  const tokenize = useApp((s) => s.tokenize);
  const settings = useApp((s) => s.settings);
  const setSettings = useApp((s) => s.setSettings);
  const toggleMode = useApp((s) => s.toggleMode);
  const run = useApp((s) => s.run);
  const cancel = useApp((s) => s.cancel);
  const running = useApp((s) => s.running !== null);
  const runError = useApp((s) => s.runError);
  const model = useApp((s) => s.model);
  const resultState = useApp((s) => s.resultState);
  const elapsed = useApp((s) => s.result?.engine?.elapsed_ms);
  const completed = useApp((s) => s.completedRuns);
  const runNote = useApp((s) => s.runNote);
  const hasResult = useApp((s) => s.result !== null);
  const tooLong = useApp(promptLengthProblem);
  const L = model?.description.num_hidden_layers ?? 0;
  const needsLayer = settings.modes.includes('neuron') || settings.modes.includes('module');
  const blocked = !model ? 'Load a model first.' : tooLong;

  useDebounced(() => void tokenize(prompt), 150, [prompt, model]);

  // Focus never falls to the page when Run disables itself: it moves to Cancel while the run
  // lasts and back to Run after. A run started from the prompt (Ctrl+Enter) hands the focus to
  // the selected token of the result instead, where the arrow keys move the selection.
  const runRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const from = useRef<'button' | 'prompt' | null>(null);
  const start = (origin: 'button' | 'prompt') => {
    from.current = origin === 'button' && document.activeElement !== runRef.current ? null : origin;
    run();
  };
  useLayoutEffect(() => {
    if (running && from.current === 'button') cancelRef.current?.focus();
    if (!running && from.current === 'button') {
      const el = document.activeElement;
      if (!el || el === document.body || el === cancelRef.current) runRef.current?.focus();
      from.current = null;
    }
  }, [running]);
  useEffect(() => {
    if (from.current !== 'prompt' || running || document.activeElement !== promptRef.current) return;
    from.current = null;
    if (!hasResult) return;
    document.querySelector<SVGGElement>('#heatmap g.tok[aria-selected="true"]')?.focus();
  }, [running, completed, hasResult]);

  return (
    <section className="side-section" aria-labelledby="run-title">
      <h2 id="run-title">Prompt</h2>
      <label className="visually-hidden" htmlFor="prompt">
        Prompt
      </label>
      <textarea
        id="prompt"
        ref={promptRef}
        rows={4}
        value={prompt}
        spellCheck={false}
        placeholder="Type a prompt; Ctrl+Enter runs it"
        onChange={(e) => {
          // Typing on means staying in the prompt: a run started before does not take the focus away.
          from.current = null;
          setPrompt(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            start('prompt');
          }
        }}
      />
      <TokenChips />
      <fieldset className="modes">
        <legend>Modes</legend>
        {MODES.map((m) => (
          <label key={m.mode} title={m.hint}>
            <input type="checkbox" checked={settings.modes.includes(m.mode)} onChange={() => toggleMode(m.mode)} /> {m.label}
          </label>
        ))}
      </fieldset>
      <div className="row wrap">
        <label className="field inline" title="layer for neuron and module modes">
          <span>layer</span>
          <select
            aria-label="Layer for neuron and module modes"
            value={settings.layer ?? Math.max(0, L - 1)}
            disabled={!needsLayer || L === 0}
            onChange={(e) => setSettings({ layer: Number(e.target.value) })}
          >
            {Array.from({ length: Math.max(L, 1) }, (_, l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline" title="how a frozen MLP activation is shared between components">
          <span>MLP rule</span>
          <select aria-label="MLP sharing rule" value={settings.rule} onChange={(e) => setSettings({ rule: e.target.value as 'softmax' | 'proportional' })}>
            <option value="softmax">softmax (τ 0.1)</option>
            <option value="proportional">proportional</option>
          </select>
        </label>
        <label className="check" title="per-layer token read-out (layer chart) and logit lens">
          <input type="checkbox" checked={settings.layerDetail} onChange={(e) => setSettings({ layerDetail: e.target.checked })} /> per-layer detail
        </label>
      </div>
      <div className="row" data-testid="run-row" data-runs={completed} data-running={running ? 'yes' : 'no'}>
        <button
          ref={runRef}
          type="button"
          className="primary"
          onClick={() => start('button')}
          disabled={blocked !== null || running}
          aria-keyshortcuts="Control+Enter"
          aria-describedby={model && tooLong ? 'run-blocked' : undefined}
          title={blocked ?? 'Run (Ctrl+Enter)'}
        >
          Run
        </button>
        <button ref={cancelRef} type="button" onClick={cancel} disabled={!running}>
          Cancel
        </button>
        {!running && (runNote || resultState) && (
          <span className="small muted" role="status" data-testid="run-status">
            {runNote === 'cancelled'
              ? resultState === 'cancelled'
                ? 'cancelled; the partial result is kept'
                : hasResult
                  ? 'cancelled; the results shown are from the run before'
                  : 'cancelled'
              : resultState === 'complete'
                ? `done${elapsed !== undefined ? ` in ${num(elapsed / 1000, 3)} s` : ''}`
                : 'partial'}
          </span>
        )}
      </div>
      {model && tooLong && (
        <p className="error small" id="run-blocked" role="status" data-testid="run-blocked">
          {tooLong}
        </p>
      )}
      <ProgressBar />
      <GenerateControls />
      {runError && (
        <p className="error" role="alert">
          {runError.message}
        </p>
      )}
    </section>
  );
}
