// The comparison's views, shown while a second run is kept beside the first: a bar naming both
// runs (with the second's JSON export), the token heatmaps aligned by token with their
// differences, and the head grid of differences. The flow graph of the difference and both
// runs' layer charts are in CompareFlow.tsx. Differences are first − second, from state/compare.ts.

import { useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { headDiff, pairLabel, shownRows, tokenDiff, type Comparison } from '../state/compare';
import { withChosenTargets } from '../state/chosen-targets';
import { diverging, maxAbs } from './colors';
import { promptsAround } from './compare-caption';
import { CompareFlow, CompareLayers } from './CompareFlow';
import { DivergingLegend, Panel, Tip, useWidth, type TipState } from './common';
import { download, exportStem, resultBlob } from './export';
import { compact, heldDecimals, heldSigned, num, plainText, signed, tokenLabel } from './format';
import { MONO, fit, textWidth, wrapChips } from './layout';
import { targetName } from './summary';
import { useComparison, useComparisonCaption } from './use-comparison';

/** How a difference or score is printed: 2 decimals live; a shared link's held digits. */
function useDigits(c: Comparison | null): (v: number) => string {
  const shared = useApp((s) => s.shared !== null);
  const d = useMemo(() => {
    if (!shared || !c) return null;
    const ra = c.first.result.token?.scores[c.first.i] ?? [];
    const rb = c.second.result.token?.scores[c.second.i] ?? [];
    return Math.min(heldDecimals(ra), heldDecimals(rb));
  }, [shared, c]);
  return (v: number) => (d === null ? compact(v) : heldSigned(v, d).replace('+', ''));
}

export function CompareViews() {
  const c = useComparison();
  const second = useApp((s) => s.second);
  const hasFirst = useApp((s) => s.result !== null);
  if (!second || !hasFirst) return null;
  if (!c)
    return (
      <p className="stale-note wide" role="status">
        The second run cannot be compared with the run on screen (another model, or no result at the selected position). Close the comparison or run again.
      </p>
    );
  return (
    <>
      <CompareBar c={c} />
      <div className="wide">
        <CompareTokens c={c} />
      </div>
      <div className="wide">
        <CompareHeads c={c} />
      </div>
      <div className="wide">
        <CompareFlow c={c} />
      </div>
      <div className="wide">
        <CompareLayers c={c} />
      </div>
    </>
  );
}

function CompareBar({ c }: { c: Comparison }) {
  const vocab = useApp((s) => s.vocab);
  const second = useApp((s) => s.second)!;
  const model = c.first.result.model.name;
  const logit = c.first.target.logit - c.second.target.logit;
  const [pa, pb] = promptsAround(plainText(c.first.result.prompt), plainText(c.second.result.prompt), 60);
  return (
    <section className="compare-bar wide" aria-label="Comparison" data-testid="compare-bar">
      <div className="row wrap">
        <strong>Comparison</strong>
        <span className="small">
          first “{pa}” at position {c.first.position}, {targetName(c.first, vocab)} · second “{pb}” at position {c.second.position},{' '}
          {targetName(c.second, vocab)}
        </span>
        <span className="spacer" />
        <button
          type="button"
          className="small"
          onClick={() =>
            download(
              resultBlob(withChosenTargets(second.result, second.overrides)),
              `${exportStem(model, second.result.prompt)}${second.target !== null ? `_target${second.target}` : ''}${second.contrast !== null ? `-vs${second.contrast}` : ''}.json`,
            )
          }
          title="The second run in the result format (depass-result/1)"
        >
          Export second JSON
        </button>
      </div>
      <p className="small" data-testid="compare-logits" data-first={c.first.target.logit} data-second={c.second.target.logit} data-diff={logit}>
        target logit: first {num(c.first.target.logit)}, second {num(c.second.target.logit)}, difference {signed(logit)}
        {c.paired ? '' : ' · the first run’s token has no partner in the second prompt: the second is read at its last position'}
      </p>
    </section>
  );
}

const ROW_H = 30;
const BLOCK_H = 3 * ROW_H + 4;
const LINE_H = BLOCK_H + 10;
const LABEL_W = 96;
const PAD_X = 5;
const MAX_COL = 150;
/** Columns drawn at most; a longer alignment shows its changed tokens and largest differences. */
const MAX_COLUMNS = 128;

function CompareTokens({ c }: { c: Comparison }) {
  const full = useMemo(() => tokenDiff(c), [c]);
  const d = useMemo(() => full && { ...full, rows: shownRows(full.rows, MAX_COLUMNS) }, [full]);
  const select = useApp((s) => s.select);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(800);
  const svgRef = useRef<SVGSVGElement>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const caption = useComparisonCaption('Tokens compared', c);
  const cell = useDigits(c);
  const a = c.first.result.tokens;
  const b = c.second.result.tokens;
  const labels = useMemo(
    () => (d?.rows ?? []).map((r) => [r.pair.a === null ? '∅' : tokenLabel(a[r.pair.a].text), r.pair.b === null ? '∅' : tokenLabel(b[r.pair.b].text)]),
    [d, a, b],
  );
  const layout = useMemo(() => {
    const ws = labels.map(([la, lb]) => Math.min(MAX_COL, Math.max(textWidth(la, MONO), textWidth(lb, MONO), textWidth('−0.00', MONO))));
    return wrapChips(ws, Math.max(120, width - LABEL_W - 4), { gap: 3, lineHeight: LINE_H, padX: PAD_X });
  }, [labels, width]);
  const scoreScale = useMemo(() => diverging(maxAbs((d?.rows ?? []).flatMap((r) => [r.a ?? 0, r.b ?? 0]))), [d]);
  const diffScale = useMemo(() => diverging(maxAbs((d?.rows ?? []).map((r) => r.diff))), [d]);

  if (!d)
    return (
      <Panel id="compare-tokens" title="Tokens compared">
        <p className="empty">Both runs need the “tokens” mode.</p>
      </Panel>
    );
  const lines = layout.boxes.length ? layout.boxes[layout.boxes.length - 1].line + 1 : 0;
  const legendY = layout.height + 8;
  const height = legendY + 28;
  return (
    <Panel
      id="compare-tokens"
      title="Tokens compared"
      caption={
        <>
          {full!.rows.length > d.rows.length
            ? `the ${d.rows.length} of ${full!.rows.length} aligned tokens that changed or differ most, in prompt order`
            : 'the prompts aligned token by token up to the compared positions'}
          ; each source’s score in the first and the second run, and first − second · rest difference {signed(d.rest)} · Σ differences + rest = logit difference{' '}
          {signed(d.logit)}
        </>
      }
      svgRef={svgRef}
      exportName="tokens-compared"
      exportCaption={caption}
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`The two prompts aligned by token, ${d.rows.length} columns, with each token's score in both runs and their difference.`}
        >
          {Array.from({ length: lines }, (_, line) => (
            <g key={line} transform={`translate(0,${line * LINE_H + 2})`} className="tick">
              {['first', 'second', 'first − second'].map((name, k) => (
                <text key={name} x={0} y={k * ROW_H + ROW_H / 2} dominantBaseline="middle" className="axis-title">
                  {name}
                </text>
              ))}
            </g>
          ))}
          {layout.boxes.map((box) => {
            const r = d.rows[box.index];
            const [la, lb] = labels[box.index];
            const last = box.index === d.rows.length - 1;
            const at = (k: number) => k * ROW_H;
            const side = (v: number | null, label: string, k: number) => (
              <g transform={`translate(0,${at(k)})`}>
                <rect width={box.width} height={ROW_H - 2} rx={3} fill={v === null ? '#f4f4f5' : scoreScale(v)} stroke={last ? '#1b1b1f' : 'none'} />
                <text x={PAD_X} y={10} dominantBaseline="middle" className="mono" style={{ fill: v === null ? '#55555c' : scoreScale.ink(v) }}>
                  {fit(label, MAX_COL, MONO)}
                </text>
                <text x={PAD_X} y={22} dominantBaseline="middle" className="mono tok-score" style={{ fill: v === null ? '#55555c' : scoreScale.ink(v) }}>
                  {v === null ? '' : cell(v)}
                </text>
              </g>
            );
            return (
              <g
                key={box.index}
                className={`pair${r.pair.same ? '' : ' differs'}`}
                transform={`translate(${LABEL_W + box.x},${box.y + 2})`}
                data-pair={box.index}
                data-first-position={r.pair.a ?? undefined}
                data-second-position={r.pair.b ?? undefined}
                data-a={r.a ?? undefined}
                data-b={r.b ?? undefined}
                data-diff={r.diff}
                onClick={() => r.pair.a !== null && select(r.pair.a)}
                onMouseMove={(e) => {
                  const rc = wrapEl!.getBoundingClientRect();
                  setTip({
                    x: e.clientX - rc.left,
                    y: e.clientY - rc.top,
                    content: (
                      <span className="num">
                        {pairLabel(r.pair, a, b, tokenLabel)} · first {r.a === null ? '—' : signed(r.a)} (pos {r.pair.a ?? '—'}) · second{' '}
                        {r.b === null ? '—' : signed(r.b)} (pos {r.pair.b ?? '—'}) · difference {signed(r.diff)}
                      </span>
                    ),
                  });
                }}
              >
                {side(r.a, la, 0)}
                {side(r.b, lb, 1)}
                <g transform={`translate(0,${at(2)})`}>
                  <rect width={box.width} height={ROW_H - 2} rx={3} fill={diffScale(r.diff)} stroke={r.pair.same ? 'none' : '#1b1b1f'} strokeDasharray="3 2" />
                  <text x={PAD_X} y={15} dominantBaseline="middle" className="mono diff-value" style={{ fill: diffScale.ink(r.diff) }}>
                    {cell(r.diff)}
                  </text>
                </g>
              </g>
            );
          })}
          <DivergingLegend scale={scoreScale} x={0} y={legendY} width={120} unit="score" />
          <DivergingLegend scale={diffScale} x={Math.min(width - 260, 330)} y={legendY} width={120} unit="first − second" />
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}

function CompareHeads({ c }: { c: Comparison }) {
  const h = useMemo(() => headDiff(c), [c]);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(600);
  const svgRef = useRef<SVGSVGElement>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const caption = useComparisonCaption('Heads compared', c);
  const scale = useMemo(() => diverging(maxAbs((h?.diff ?? []).flat())), [h]);
  if (!h)
    return (
      <Panel id="compare-heads" title="Heads compared">
        <p className="empty">Both runs need the “heads” mode.</p>
      </Panel>
    );
  const left = 40;
  const top = 26;
  const cellW = Math.max(14, Math.min(56, Math.floor((Math.min(width, 720) - left) / h.H)));
  const cellH = Math.max(14, Math.min(30, cellW));
  const gridH = top + cellH * h.layers.length;
  const height = gridH + 40;
  const showText = cellW >= 36 && cellH >= 18;
  return (
    <Panel
      id="compare-heads"
      title="Heads compared"
      caption={<>head score of the first run minus the second’s, per layer and head (purple: the head favours the first run’s target more)</>}
      svgRef={svgRef}
      exportName="heads-compared"
      exportCaption={caption}
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg ref={svgRef} width={width} height={height} role="img" aria-label={`Head score differences, ${h.layers.length} layers by ${h.H} heads.`}>
          {Array.from({ length: h.H }, (_, k) => (
            <text key={k} x={left + k * cellW + cellW / 2} y={top - 8} textAnchor="middle" className="tick">
              {k}
            </text>
          ))}
          {h.layers.map((l, n) => (
            <g key={l}>
              <text x={left - 6} y={top + n * cellH + cellH / 2} textAnchor="end" dominantBaseline="middle" className="tick">
                L{l}
              </text>
              {h.diff[n].map((v, k) => (
                <g
                  key={k}
                  className="diff-cell"
                  data-layer={l}
                  data-head={k}
                  data-a={h.a[n][k]}
                  data-b={h.b[n][k]}
                  data-diff={v}
                  onMouseMove={(e) => {
                    const rc = wrapEl!.getBoundingClientRect();
                    setTip({
                      x: e.clientX - rc.left,
                      y: e.clientY - rc.top,
                      content: (
                        <span className="num">
                          L{l} H{k}: first {signed(h.a[n][k])} − second {signed(h.b[n][k])} = {signed(v)}
                        </span>
                      ),
                    });
                  }}
                >
                  <rect x={left + k * cellW} y={top + n * cellH} width={cellW - 1} height={cellH - 1} fill={scale(v)} />
                  {showText && (
                    <text
                      x={left + k * cellW + cellW / 2}
                      y={top + n * cellH + cellH / 2}
                      textAnchor="middle"
                      dominantBaseline="middle"
                      className="mono tok-score"
                      style={{ fill: scale.ink(v) }}
                    >
                      {compact(v)}
                    </text>
                  )}
                </g>
              ))}
            </g>
          ))}
          <DivergingLegend scale={scale} x={left} y={gridH + 10} width={140} unit="first − second (logit units)" />
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}
