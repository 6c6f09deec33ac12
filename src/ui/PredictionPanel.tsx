// The prediction at the selected position: its top-5 next tokens, the target being explained
// (the prediction by default; any vocabulary token, or a contrast target vs distractor) and the
// completeness badge: Σ scores + rest against the logit. Changing the target re-runs that one
// position in the worker.

import { scaleLinear } from 'd3';
import { useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { tokenCompleteness } from '../state/selectors';
import { Empty, Panel, Tok, useFocus, useSources, useWidth } from './common';
import { clip, num, signed, tokenLabel } from './format';
import { MONO, fit } from './layout';
import { searchVocab, type VocabMatch } from './vocab';

function VocabPicker({ label, onPick, disabled }: { label: string; onPick: (m: VocabMatch) => void; disabled?: boolean }) {
  const vocab = useApp((s) => s.vocab);
  const [q, setQ] = useState('');
  const matches = useMemo(() => searchVocab(vocab, q, 10), [vocab, q]);
  const id = `vp-${label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div className="vocab-picker">
      <label htmlFor={id} className="small">
        {label}
      </label>
      <input
        id={id}
        type="search"
        value={q}
        disabled={disabled}
        placeholder="text or #id"
        autoComplete="off"
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && matches[0]) {
            onPick(matches[0]);
            setQ('');
          }
        }}
        aria-describedby={`${id}-hint`}
      />
      <span id={`${id}-hint`} className="visually-hidden">
        Enter picks the first match; Tab reaches the list.
      </span>
      {q && (
        <ul className="matches" aria-label={`${label} matches`}>
          {matches.length === 0 && <li className="muted small">no token matches</li>}
          {matches.map((m) => (
            <li key={m.id}>
              <button
                type="button"
                className="match"
                onClick={() => {
                  onPick(m);
                  setQ('');
                }}
              >
                <Tok text={m.text} max={30} /> <span className="muted num">#{m.id}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function CompletenessBadge() {
  const f = useFocus();
  const sources = useSources(f);
  if (!f) return null;
  // Shown per word when the views show words: the words' sums must add up to the logit too.
  const words = sources?.words ? sources.all.map((u) => u.positions) : undefined;
  const c = tokenCompleteness(f, words);
  const overall = f.result.completeness.max_abs_error;
  if (!c) {
    return (
      <div className="badge" title="largest |Σ scores − logit| over every target and mode of this run">
        completeness: max error <span className="num">{num(overall, 2)}</span>
      </div>
    );
  }
  const rel = c.error / Math.max(1e-12, Math.abs(c.logit));
  const ok = rel < 1e-3 || c.error < 1e-4;
  const cap = f.result.model.final_logit_softcapping;
  const capNote = cap
    ? ` This model caps its logits as ${cap}·tanh(z/${cap}), which is not additive: the scores explain z, the logit before the cap; the predictions list shows the capped logits.`
    : '';
  return (
    <div
      className={`badge ${ok ? 'ok' : 'bad'}`}
      data-testid="completeness"
      title={`Σ ${words ? 'word scores (each the sum of its tokens’)' : 'token scores'} + rest should equal the target logit. Largest error over the whole run: ${num(overall, 2)}.${capNote}`}
      data-sum={c.sum}
    >
      <span>
        {ok ? '✓' : '⚠'} Σ {words ? 'word ' : ''}scores
      </span>{' '}
      <span className="num">{num(c.sum, 6)}</span> <span>vs {cap ? 'pre-cap logit' : 'logit'}</span> <span className="num">{num(c.logit, 6)}</span>{' '}
      <span>· error</span> <span className="num">{num(c.error, 2)}</span>
    </div>
  );
}

export function PredictionPanel() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const setTarget = useApp((s) => s.setTarget);
  const running = useApp((s) => s.running);
  const chosenPositions = useApp((s) => s.overrides.map((o) => o.position).join(', '));
  const svgRef = useRef<SVGSVGElement>(null);
  const { ref: wrapRef, width } = useWidth<HTMLDivElement>(420);

  if (!f) {
    return (
      <Panel id="prediction" title="Prediction">
        <Empty>No run yet.</Empty>
      </Panel>
    );
  }
  const top = f.result.predictions[f.position]?.top ?? [];
  const predicted = top[0]?.id;
  const { id: target, contrast_id: contrast } = f.target;
  const name = (id: number) => tokenLabel(vocab[id] ?? `#${id}`);
  const rowH = 22;
  const labelW = 120;
  const valueW = 64;
  const lo = Math.min(0, ...top.map((t) => t.logit));
  const hi = Math.max(0, ...top.map((t) => t.logit));
  const x = scaleLinear()
    .domain([lo, hi === lo ? lo + 1 : hi])
    .range([labelW, Math.max(labelW + 40, width - valueW)]);
  const height = top.length * rowH + 6;
  const busy = running !== null;

  return (
    <Panel
      id="prediction"
      title="Prediction"
      caption={
        <>
          position {f.position} · <Tok text={f.result.tokens[f.position].text} max={24} /> → top-5 next tokens (logits)
        </>
      }
      svgRef={svgRef}
      exportName="prediction"
    >
      <div className="chart-wrap" ref={wrapRef}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="group"
          aria-label={`Top five next tokens at position ${f.position}: ${top.map((t) => `${clip(name(t.id), 60)} ${num(t.logit)}`).join(', ')}`}
        >
          {top.map((t, k) => {
            const isTarget = t.id === target;
            const isContrast = t.id === contrast;
            // The label stops before the bars begin (the target line below has the whole token).
            const label = fit(`${k + 1}. ${name(t.id)}`, labelW - 8, MONO);
            return (
              <g
                key={t.id}
                transform={`translate(0,${k * rowH + 3})`}
                className={`pred-row${isTarget ? ' target' : ''}${isContrast ? ' contrast' : ''}`}
                role="button"
                tabIndex={0}
                aria-label={`${label} ${num(t.logit)}: explain this token (logit ${num(t.logit)})`}
                onClick={() => setTarget(t.id, null)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    setTarget(t.id, null);
                  }
                }}
              >
                <rect x={0} y={0} width={width} height={rowH - 2} className="row-bg" />
                {/* The trailing space keeps the label and the number apart as words for assistive technology. */}
                <text x={4} y={rowH / 2} dominantBaseline="middle" className="mono">
                  {`${label} `}
                </text>
                <rect x={x(Math.min(0, t.logit))} y={4} width={Math.max(1, Math.abs(x(t.logit) - x(0)))} height={rowH - 10} className="bar" />
                <text x={width - 4} y={rowH / 2} dominantBaseline="middle" textAnchor="end" className="num" aria-hidden="true">
                  {num(t.logit)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <div className="target-line" aria-live="polite">
        <span className="muted">explaining</span>{' '}
        <b>
          <Tok text={vocab[target] ?? `#${target}`} />
        </b>
        {contrast !== null && (
          <>
            {' '}
            <span className="muted">vs</span>{' '}
            <b>
              <Tok text={vocab[contrast] ?? `#${contrast}`} />
            </b>
          </>
        )}{' '}
        <span className="muted">{contrast !== null ? 'logit difference' : 'logit'}</span> <span className="num">{num(f.target.logit)}</span>
        {f.custom ? <span className="tag">chosen</span> : <span className="tag muted">prediction</span>}
        {running?.kind === 'target' && <span className="small muted"> re-running…</span>}
      </div>
      <CompletenessBadge />
      <div className="pickers">
        <VocabPicker label="Target token" disabled={busy} onPick={(m) => setTarget(m.id, contrast)} />
        <VocabPicker label="Contrast (distractor)" disabled={busy} onPick={(m) => setTarget(target, m.id === target ? null : m.id)} />
        <div className="picker-actions">
          {contrast !== null && (
            <button type="button" className="small" onClick={() => setTarget(target, null)} disabled={busy}>
              drop contrast
            </button>
          )}
          {(f.custom || target !== predicted) && (
            <button type="button" className="small" onClick={() => setTarget(null, null)} disabled={busy}>
              reset to prediction
            </button>
          )}
        </div>
      </div>
      {f.custom && <p className="small muted">Scores below are for the chosen target at this position only ({signed(f.target.logit)}).</p>}
      {chosenPositions && (
        <p className="small muted" data-testid="chosen-positions">
          Chosen targets at position{chosenPositions.includes(',') ? 's' : ''} {chosenPositions} (marked on their tokens; kept while you move, and in Export
          JSON and the link).
        </p>
      )}
    </Panel>
  );
}
