// The side column's comparison form: a second prompt (a minimal pair, or the same prompt) and
// optionally a token to explain in it instead of the prediction, or a token vs a distractor.
// Compare runs it with the first run's settings; the views below the first run show both and
// their differences. Only sends the request and shows its state; no numbers here.

import { useState } from 'react';
import { useApp } from '../state';
import { readOnly } from '../state/selectors';
import { clip, plainText, tokenLabel } from './format';
import { searchVocab } from './vocab';
import './compare.css';

/** The vocabulary entry a typed token names ("she", "#123"), or null. */
function resolve(vocab: string[], text: string): { id: number; text: string } | null {
  if (text.trim().length === 0) return null;
  return searchVocab(vocab, text, 1)[0] ?? null;
}

export function ComparePanel() {
  const hasResult = useApp((s) => s.result !== null);
  const firstPrompt = useApp((s) => s.result?.prompt ?? '');
  const vocab = useApp((s) => s.vocab);
  const comparing = useApp((s) => s.comparing);
  const second = useApp((s) => s.second);
  const compared = useApp((s) => s.compared);
  const busy = useApp((s) => s.running !== null || s.generating);
  const shared = useApp(readOnly);
  const compareWith = useApp((s) => s.compareWith);
  const closeCompare = useApp((s) => s.closeCompare);
  const [prompt, setPrompt] = useState('');
  const [target, setTarget] = useState('');
  const [contrast, setContrast] = useState('');

  const t = resolve(vocab, target);
  const c = resolve(vocab, contrast);
  const running = comparing?.status === 'running';
  const blocked = shared
    ? 'A shared run is read-only: re-run it live to compare.'
    : !hasResult
      ? 'Run a first prompt; the second is compared with it.'
      : busy || running
        ? 'Wait for the run in progress.'
        : prompt.length === 0
          ? 'Type a second prompt (or copy the first and choose a target).'
          : target.trim() && !t
            ? `No token matches “${clip(target, 20)}”.`
            : contrast.trim() && !c
              ? `No token matches “${clip(contrast, 20)}”.`
              : contrast.trim() && !target.trim()
                ? 'A distractor needs a target.'
                : null;

  return (
    <section className="side-section compare-form" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare</h2>
      <p className="small muted">
        A second prompt (a minimal pair, such as “…said that she” / “…said that he”), or the same prompt with another target, run with the first run’s settings
        and shown beside it with the differences (first − second).
      </p>
      <label className="visually-hidden" htmlFor="compare-prompt">
        Second prompt
      </label>
      <textarea id="compare-prompt" rows={2} value={prompt} spellCheck={false} placeholder="Second prompt" onChange={(e) => setPrompt(e.target.value)} />
      <div className="row wrap">
        <button type="button" className="small" disabled={!hasResult} onClick={() => setPrompt(firstPrompt)}>
          Copy the first prompt
        </button>
      </div>
      <div className="row wrap">
        <label className="field inline" title="a token to explain at every position of the second prompt instead of the model's prediction">
          <span>target</span>
          <input
            type="text"
            size={8}
            value={target}
            aria-label="Second run's target token (optional)"
            placeholder="prediction"
            onChange={(e) => setTarget(e.target.value)}
          />
        </label>
        <label className="field inline" title="explain the target's logit minus this token's">
          <span>vs</span>
          <input
            type="text"
            size={8}
            value={contrast}
            aria-label="Second run's distractor token (optional)"
            placeholder="none"
            onChange={(e) => setContrast(e.target.value)}
          />
        </label>
      </div>
      {(t || c) && (
        <p className="small muted" data-testid="compare-target">
          explains {t ? <bdi className="mono">{tokenLabel(t.text)}</bdi> : 'the prediction'} (#{t?.id})
          {c && (
            <>
              {' '}
              vs <bdi className="mono">{tokenLabel(c.text)}</bdi> (#{c.id})
            </>
          )}
        </p>
      )}
      <div className="row" data-testid="compare-row" data-comparing={running ? 'yes' : 'no'} data-has-second={second ? 'yes' : 'no'} data-compared={compared}>
        <button
          type="button"
          className="primary"
          disabled={blocked !== null}
          title={blocked ?? 'Run the second prompt and compare'}
          aria-describedby={blocked && hasResult ? 'compare-blocked' : undefined}
          onClick={() => void compareWith(prompt, t?.id ?? null, c?.id ?? null)}
        >
          Compare
        </button>
        <button type="button" disabled={!second && !running} onClick={closeCompare}>
          {running ? 'Cancel' : 'Close comparison'}
        </button>
        {running && (
          <span className="small muted" role="status">
            running the second prompt…
          </span>
        )}
      </div>
      {blocked && hasResult && !running && (
        <p className="small muted" id="compare-blocked">
          {blocked}
        </p>
      )}
      {second && !running && (
        <p className="small" role="status" data-testid="compare-status">
          Compared with “{clip(plainText(second.result.prompt), 60)}”
          {second.target !== null ? ` explaining ${tokenLabel(vocab[second.target] ?? `#${second.target}`)}` : ''}
          {second.contrast !== null ? ` vs ${tokenLabel(vocab[second.contrast] ?? `#${second.contrast}`)}` : ''}.
        </p>
      )}
      {comparing?.status === 'failed' && (
        <p className="error" role="alert">
          {comparing.error}
        </p>
      )}
    </section>
  );
}
