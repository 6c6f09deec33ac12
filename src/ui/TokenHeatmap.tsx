// The token heatmap: the prompt as chips, each source coloured by its signed contribution to the
// selected position's target (diverging PuOr, symmetric domain). Click selects a position,
// hover shows the score and its share of the logit. Drawn as SVG so it exports like the rest.

import { useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { diverging, maxAbs } from './colors';
import { DivergingLegend, Empty, Panel, Tip, useFocus, useWidth, type TipState } from './common';
import { compact, num, percent, signed, tokenLabel } from './format';
import { MONO, fit, textWidth, wrapChips } from './layout';
import { targetName } from './summary';

const LINE = 44;
const PAD_X = 5;
const CHIP_H = 38;
/** The score printed under each token, in a smaller face. */
const SMALL = '10px "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace';
const MAX_CHIP = 180;

export function TokenHeatmap() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const select = useApp((s) => s.select);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(800);
  const svgRef = useRef<SVGSVGElement>(null);
  const [tip, setTip] = useState<TipState | null>(null);

  const tokens = f?.result.tokens;
  const labels = useMemo(() => (tokens ?? []).map((t) => tokenLabel(t.text)), [tokens]);
  const layout = useMemo(() => {
    // Wide enough for the score line too, so chips keep their place when the selection moves.
    const scoreW = textWidth('−0.00', SMALL);
    const ws = labels.map((l) => Math.min(MAX_CHIP, Math.max(textWidth(l, MONO), scoreW)));
    return wrapChips(ws, width - 2, { gap: 3, lineHeight: LINE, padX: PAD_X });
  }, [labels, width]);

  const scores = f?.result.token?.scores[f.i] ?? null;
  const scale = useMemo(() => diverging(maxAbs(scores ?? [])), [scores]);

  if (!f || !tokens)
    return (
      <Panel id="heatmap" title="Token attribution">
        <Empty>Load a model, type a prompt and run it. Then click a token (or use ← →) to explain its next-token prediction.</Empty>
      </Panel>
    );

  const logit = f.target.logit;
  const legendY = layout.height + 10;
  const height = legendY + 26;
  const caption = scores ? (
    <>
      contribution of each source token to {targetName(f, vocab)} at position {f.position} · logit {num(logit)}
    </>
  ) : (
    <>run with “tokens” mode to colour the sources</>
  );

  return (
    <Panel id="heatmap" title="Token attribution" caption={caption} svgRef={svgRef} exportName="tokens">
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`Prompt tokens coloured by their contribution to the prediction at position ${f.position}. Use the left and right arrow keys to move the selected position.`}
          className="heatmap"
        >
          {layout.boxes.map((b) => {
            const s = b.index;
            const v = scores && s <= f.position ? scores[s] : null;
            const selected = s === f.position;
            const after = s > f.position;
            return (
              <g
                key={s}
                className={`tok${selected ? ' selected' : ''}${after ? ' after' : ''}`}
                transform={`translate(${b.x + 1},${b.y + 2})`}
                onClick={() => select(s)}
                onMouseMove={(e) => {
                  const r = wrapEl!.getBoundingClientRect();
                  setTip({
                    x: e.clientX - r.left,
                    y: e.clientY - r.top,
                    content: (
                      <>
                        <div>
                          <b className="mono">{labels[s]}</b>{' '}
                          <span className="muted">
                            pos {s} · id {tokens[s].id}
                          </span>
                        </div>
                        {v !== null ? (
                          <div className="num">
                            score {signed(v)} · {Math.abs(logit) > 1e-9 ? `${percent(v / logit)} of logit` : 'logit ≈ 0'}
                          </div>
                        ) : (
                          <div className="muted">{after ? 'after the selected position: no contribution' : 'no token scores in this run'}</div>
                        )}
                        <div className="muted">click to explain this position</div>
                      </>
                    ),
                  });
                }}
                data-position={s}
                data-score={v ?? undefined}
              >
                <rect width={b.width} height={CHIP_H} rx={3} fill={v !== null ? scale(v) : after ? '#f4f4f5' : '#ffffff'} className="tok-bg" />
                <text
                  x={PAD_X}
                  y={13}
                  dominantBaseline="middle"
                  style={{ fill: v !== null ? scale.ink(v) : after ? '#9a9aa0' : '#1b1b1f' }}
                  className="tok-text"
                >
                  {fit(labels[s], MAX_CHIP, MONO)}
                </text>
                {v !== null && (
                  <text x={PAD_X} y={29} dominantBaseline="middle" style={{ fill: scale.ink(v) }} className="tok-score">
                    {compact(v)}
                  </text>
                )}
              </g>
            );
          })}
          {scores && <DivergingLegend scale={scale} x={0} y={legendY} width={160} unit="score (logit units) · outlined: selected position" />}
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}
