// The logit lens at the selected position: the five highest tokens of the residual after each
// layer (result.logit_lens), with the model's final prediction as the last row and the target
// outlined wherever it appears. Colour is the logit relative to the row's best.

import { useRef } from 'react';
import { useApp } from '../state';
import { sequential } from './colors';
import { Empty, Panel, useFocus, useWidth } from './common';
import { clip, num, tokenLabel } from './format';
import { fit } from './layout';

/** The cells' face (svg .cell-text). */
const MONO_10 = '10px "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace';

/** Two lines per cell: the token across the whole cell, its logit under it. */
const ROW = 32;

export function LogitLens() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const { ref: wrapRef, width } = useWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement>(null);
  const lens = f?.result.logit_lens?.[f.position];
  if (!f || !lens) {
    return (
      <Panel id="lens" title="Logit lens">
        <Empty>Run with per-layer detail to see the top tokens after each layer.</Empty>
      </Panel>
    );
  }
  const final = f.result.predictions[f.position]?.top ?? [];
  const rows = [...lens.map((top, l) => ({ label: `L${l}`, top })), { label: 'out', top: final }];
  const labelW = 34;
  const k = Math.max(...rows.map((r) => r.top.length), 1);
  const cw = Math.max(60, Math.floor((width - labelW) / k));
  const height = 16 + rows.length * ROW + 4;
  return (
    <Panel
      id="lens"
      title="Logit lens"
      caption={
        <>top-5 tokens of the residual after each layer at position {f.position} · each cell: the token, and its logit under it · outlined: the target</>
      }
      svgRef={svgRef}
      exportName="logit-lens"
    >
      <div className="chart-wrap" ref={wrapRef}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`Logit lens at position ${f.position}: ${rows.map((r) => `${r.label} ${clip(tokenLabel(vocab[r.top[0]?.id] ?? ''), 40)}`).join(', ')}`}
        >
          {Array.from({ length: k }, (_, c) => (
            <text key={c} x={labelW + c * cw + 4} y={11} className="axis-title">
              {`#${c + 1}`}
            </text>
          ))}
          {rows.map((r, n) => {
            const best = r.top[0]?.logit ?? 0;
            const worst = r.top[r.top.length - 1]?.logit ?? 0;
            const seq = sequential(Math.max(1e-9, best - worst));
            return (
              <g key={r.label} transform={`translate(0,${16 + n * ROW})`}>
                <text x={labelW - 6} y={ROW / 2} textAnchor="end" dominantBaseline="middle" className={`tick${r.label === 'out' ? ' strong' : ''}`}>
                  {r.label}
                </text>
                {r.top.map((t, c) => {
                  const v = Math.max(0, t.logit - worst) * 0.75;
                  const isTarget = t.id === f.target.id;
                  return (
                    <g key={c} transform={`translate(${labelW + c * cw},0)`}>
                      <title>{`${tokenLabel(vocab[t.id] ?? `#${t.id}`)} · logit ${num(t.logit)}`}</title>
                      <rect x={0.5} y={0.5} width={cw - 1} height={ROW - 1} fill={seq(v)} className={isTarget ? 'target-cell' : undefined} />
                      <text x={4} y={11} dominantBaseline="middle" className="mono cell-text" style={{ fill: seq.ink(v) }}>
                        {fit(tokenLabel(vocab[t.id] ?? `#${t.id}`), cw - 8, MONO_10)}
                      </text>
                      <text x={4} y={24} dominantBaseline="middle" className="num cell-text" style={{ fill: seq.ink(v) }}>
                        {num(t.logit, 3)}
                      </text>
                    </g>
                  );
                })}
              </g>
            );
          })}
        </svg>
      </div>
    </Panel>
  );
}
