// Checking an attribution: remove the k components the current ranking credits most (heads,
// neurons or source tokens), re-run the model in the worker, and compare the real change of the
// target logit with the predicted one (minus the removed components' scores).

import { scaleLinear } from 'd3';
import { useRef } from 'react';
import { useApp } from '../state';
import { ablateSources } from '../state/ranking';
import type { AblateSource } from '../state/types';
import { Empty, Panel, Tok, useFocus, useWidth } from './common';
import { clip, num, plainText, signed } from './format';
import { MONO, fit } from './layout';
import { readOnly } from '../state/selectors';

const LABELS: Record<AblateSource, string> = { head: 'heads', neuron: 'neurons', token: 'source tokens' };

export function AblationPanel() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const ablation = useApp((s) => s.ablation);
  const ablate = useApp((s) => s.ablate);
  const k = useApp((s) => s.ablateK);
  const source0 = useApp((s) => s.ablateSource);
  const setView = useApp((s) => s.setView);
  const running = useApp((s) => s.running !== null);
  const shared = useApp(readOnly);
  const { ref: wrapRef, width } = useWidth<HTMLDivElement>(400);
  const svgRef = useRef<SVGSVGElement>(null);

  const sources = ablateSources(f);
  if (!f || sources.length === 0) {
    return (
      <Panel id="ablation" title="Check by ablation">
        <Empty>Run first; then remove the top-k heads, neurons or tokens and compare the real logit change with the predicted one.</Empty>
      </Panel>
    );
  }
  const source = sources.includes(source0) ? source0 : sources[0];
  const a = ablation && ablation.position === f.position && ablation.targetId === f.target.id ? ablation : null;
  const real = a?.status === 'done' ? a.ablated! - a.baseline! : null;

  const bars = a ? [{ label: 'predicted Δ', v: a.predicted }, ...(real !== null ? [{ label: 'real Δ', v: real }] : [])] : [];
  // The exported picture says what was removed, in a line above the bars.
  const removedLine = a ? `removed the top ${a.removed.length} ${LABELS[a.source]}: ${a.removed.map((c) => plainText(c.label)).join(', ')}` : '';
  const BARS_Y = 20;
  const disabledWhy = shared ? 'This is a shared run: ablation re-runs the model, so re-run the link live first.' : null;
  const maxV = Math.max(1e-9, ...bars.map((b) => Math.abs(b.v)));
  const x = scaleLinear()
    .domain([-maxV, maxV])
    .range([90, Math.max(160, width - 70)]);

  return (
    <Panel
      id="ablation"
      title="Check by ablation"
      caption={<>remove the top-k {LABELS[source]} by score and re-run (logit of the current target)</>}
      svgRef={a ? svgRef : undefined}
      exportName="ablation"
    >
      <div className="row wrap">
        <label className="field inline">
          <span>rank</span>
          <select aria-label="Components to ablate" value={source} onChange={(e) => setView({ ablateSource: e.target.value as AblateSource })}>
            {sources.map((s) => (
              <option key={s} value={s}>
                {LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>k</span>
          <input
            type="number"
            min={1}
            max={64}
            value={k}
            aria-label="Number of components to ablate"
            onChange={(e) => setView({ ablateK: Math.max(1, Math.min(64, Math.round(Number(e.target.value) || 1))) })}
            style={{ width: 56 }}
          />
        </label>
        <button
          type="button"
          onClick={() => void ablate(source, k)}
          disabled={shared || running || a?.status === 'running'}
          title={disabledWhy ?? undefined}
          aria-describedby={disabledWhy ? 'ablate-why' : undefined}
        >
          Ablate top {k}
        </button>
      </div>
      {disabledWhy && (
        <p className="small muted" id="ablate-why" data-testid="ablate-why">
          {disabledWhy}
        </p>
      )}
      {a && (
        <div className="ablation-result" aria-live="polite">
          <p className="small">
            removed ({a.removed.length}):{' '}
            {a.removed.map((c) => (
              <span key={c.label} className="chip inline">
                <span className="chip-text" title={c.label.length > 40 ? plainText(c.label) : undefined}>
                  {clip(plainText(c.label), 40)}
                </span>
                <span className="chip-id">{signed(c.score, 3)}</span>
              </span>
            ))}
          </p>
          {a.status === 'running' && <p className="small muted">re-running without them…</p>}
          {a.status === 'failed' && (
            <p className="error" role="alert">
              {a.error}
            </p>
          )}
          <table className="numbers" data-testid="ablation-table">
            <tbody>
              <tr>
                <th scope="row">predicted Δ (−Σ scores)</th>
                <td className="num">{signed(a.predicted)}</td>
              </tr>
              <tr>
                <th scope="row">real Δ</th>
                <td className="num" data-testid="ablation-real">
                  {real !== null ? signed(real) : '…'}
                </td>
              </tr>
              {a.status === 'done' && (
                <tr>
                  <th scope="row">logit before → after</th>
                  <td className="num">
                    {num(a.baseline!)} → {num(a.ablated!)}
                  </td>
                </tr>
              )}
              {a.top && (
                <tr>
                  <th scope="row">top-5 after</th>
                  <td className="small">
                    {a.top.map((t) => (
                      <span key={t.id}>
                        <Tok text={vocab[t.id] ?? `#${t.id}`} max={24} />{' '}
                      </span>
                    ))}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <div className="chart-wrap" ref={wrapRef}>
            <svg
              ref={svgRef}
              width={width}
              height={BARS_Y + bars.length * 22 + 8}
              role="img"
              aria-label={`${removedLine}. Predicted change ${num(a.predicted)}${real !== null ? `, real change ${num(real)}` : ''}`}
            >
              <text x={0} y={12} className="tick mono">
                {fit(removedLine, width - 4, MONO)}
              </text>
              <line x1={x(0)} x2={x(0)} y1={BARS_Y} y2={BARS_Y + bars.length * 22} className="zero" />
              {bars.map((b, n) => (
                <g key={b.label} transform={`translate(0,${BARS_Y + n * 22 + 2})`}>
                  <text x={84} y={10} textAnchor="end" dominantBaseline="middle" className="tick">
                    {b.label}
                  </text>
                  <rect x={Math.min(x(0), x(b.v))} y={2} width={Math.max(1, Math.abs(x(b.v) - x(0)))} height={16} fill={n === 0 ? '#b2abd2' : '#5e3c99'} />
                  <text x={width - 4} y={10} textAnchor="end" dominantBaseline="middle" className="num">
                    {signed(b.v)}
                  </text>
                </g>
              ))}
            </svg>
          </div>
        </div>
      )}
    </Panel>
  );
}
