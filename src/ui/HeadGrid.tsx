// The head grid: layer × head heatmap of head contributions to the focused target, and, for a
// pinned head, its attention pattern (query × key, from the engine's last forward pass) beside
// the head's contribution at every position. Hover previews, click (or Enter) pins.

import { scaleBand } from 'd3';
import { useId, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useApp } from '../state';
import { headKey } from '../state/selectors';
import type { HeadRef } from '../state/types';
import { diverging, maxAbs, sequential } from './colors';
import { DivergingLegend, Empty, Panel, Tip, useFocus, useWidth, type TipState } from './common';
import { compact, heldDecimals, heldSigned, num, percent, signed, tokenLabel } from './format';
import { GRID_LABEL_W as LABEL_W, GRID_TOP as TOP, headGridLayout } from './head-grid-layout';
import { MONO, fit } from './layout';
import { attentionBefore, patternBlock, patternWindow } from './pattern-window';

/** One scale object per maximum, so the pattern image is not redrawn on every render. */
const seqCache = new Map<number, ReturnType<typeof sequential>>();
function seqFor(max: number): ReturnType<typeof sequential> {
  let s = seqCache.get(max);
  if (!s) {
    if (seqCache.size > 64) seqCache.clear();
    s = sequential(max);
    seqCache.set(max, s);
  }
  return s;
}

/**
 * A T×T attention pattern as one image (drawn at its displayed cell size) rather
 * than T² SVG rects, so long prompts stay fast; it still travels inside the exported SVG.
 */
function AttentionImage({
  A,
  T,
  x,
  y,
  cell,
  color,
  onHover,
}: {
  A: Float32Array;
  T: number;
  x: number;
  y: number;
  cell: number;
  color: (v: number) => string;
  onHover: (q: number, k: number, e: MouseEvent<SVGRectElement>) => void;
}) {
  const href = useMemo(() => {
    // Drawn at the displayed size (cells are whole pixels) so nothing is smoothed on screen or
    // in exports; a hairline gap between cells keeps neighbouring values apart.
    const canvas = document.createElement('canvas');
    canvas.width = T * cell;
    canvas.height = T * cell;
    const ctx = canvas.getContext('2d');
    if (!ctx) return '';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const gap = cell >= 8 ? 1 : 0;
    for (let q = 0; q < T; q++) {
      for (let k = 0; k <= q; k++) {
        ctx.fillStyle = color(A[q * T + k]);
        ctx.fillRect(k * cell, q * cell, cell - gap, cell - gap);
      }
    }
    return canvas.toDataURL('image/png');
  }, [A, T, cell, color]);
  return (
    <g>
      <image href={href} x={x} y={y} width={T * cell} height={T * cell} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} />
      <rect
        x={x}
        y={y}
        width={T * cell}
        height={T * cell}
        fill="transparent"
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const k = Math.floor(((e.clientX - r.left) / r.width) * T);
          const q = Math.floor(((e.clientY - r.top) / r.height) * T);
          if (q >= 0 && q < T && k >= 0 && k <= q) onHover(q, k, e);
        }}
      />
    </g>
  );
}

export function HeadGrid() {
  const f = useFocus();
  const base = useApp((s) => s.result);
  const pinned = useApp((s) => s.pinnedHead);
  const pinHead = useApp((s) => s.pinHead);
  const patterns = useApp((s) => s.patterns);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(560);
  const svgRef = useRef<SVGSVGElement>(null);
  const [hover, setHover] = useState<HeadRef | null>(null);
  const [cursor, setCursor] = useState<HeadRef>({ layer: 0, head: 0 });
  const [tip, setTip] = useState<TipState | null>(null);
  const [focused, setFocused] = useState(false);
  const cellId = `hg${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;

  const hd = f?.result.head;
  const grid = hd ? hd.scores[f.i] : null; // [layers][H]
  const scale = useMemo(() => diverging(maxAbs((grid ?? []).flat())), [grid]);
  // A shared run prints no more digits than its link holds (one row: every layer's heads).
  const shared = useApp((s) => s.shared !== null);
  const held = useMemo(() => (shared && grid ? heldDecimals(grid.flat()) : null), [shared, grid]);
  const cellText = (v: number) => (held === null ? compact(v) : heldSigned(v, held).replace('+', ''));

  if (!f || !hd || !grid) {
    return (
      <Panel id="heads" title="Attention heads">
        <Empty>Run with “heads” mode to see each head’s contribution (one decomposed pass per layer).</Empty>
      </Panel>
    );
  }

  const H = grid[0]?.length ?? 0;
  const rows = hd.layers;
  const T = f.result.tokens.length;
  const show = pinned ?? null;
  const pat = show ? patterns[headKey(show)] : undefined;
  const patOk = pat?.status === 'done' && pat.T === T ? pat : null;

  // A long prompt's pattern is drawn one diagonal block at a time: the block of the selected position.
  const win = patternWindow(T, f.position);
  const n = win.n;
  const g = headGridLayout(width, H, rows.length, n, show !== null);
  const { cell, gridW, gridH } = g;
  const gx = scaleBand<number>()
    .domain(Array.from({ length: H }, (_, h) => h))
    .range([LABEL_W, gridW]);
  const gy = scaleBand<number>()
    .domain(rows.map((_, n) => n))
    .range([TOP, gridH]);
  const logit = f.target.logit;

  // Attention pattern to the right of the grid, with the head's per-position contribution strip.
  const { x0: ax0, labelW, strip, cell: ac, left: aLeft, top: aTop, labels: showLabels } = g.pattern;
  const headStrip =
    show && base?.head && base.targets.length === T
      ? base.targets.slice(win.from, win.from + n).map((_, i) => base.head!.scores[win.from + i][base.head!.layers.indexOf(show.layer)]?.[show.head] ?? 0)
      : null;
  const stripScale = diverging(maxAbs(headStrip ?? []));
  const A = patOk ? patternBlock(patOk.A, T, win) : undefined;
  const aMax = A ? maxAbs(A) : 1;
  const seq = seqFor(aMax);
  const height = g.height + (show && n < T ? 18 : 0);

  const onKey = (e: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const m = moves[e.key];
    if (m) {
      e.preventDefault();
      e.stopPropagation();
      const n = Math.min(rows.length - 1, Math.max(0, rows.indexOf(cursor.layer) + m[0]));
      const next = { layer: rows[Math.max(0, n)], head: Math.min(H - 1, Math.max(0, cursor.head + m[1])) };
      setCursor(next);
      setHover(next);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      pinHead(cursor);
    }
  };

  const describe = (h: HeadRef) => {
    const n = rows.indexOf(h.layer);
    const v = grid[n]?.[h.head] ?? 0;
    return `layer ${h.layer} head ${h.head}: ${held === null ? signed(v) : heldSigned(v, held)}${Math.abs(logit) > 1e-9 ? ` (${percent(v / logit)} of logit)` : ''}`;
  };

  return (
    <Panel
      id="heads"
      title="Attention heads"
      csvModes={['head']}
      caption={
        <>
          each head’s output at its layer, scored on the target (logit units)
          {show ? ` · pinned L${show.layer} H${show.head}` : ' · click a head for its attention'}
        </>
      }
      svgRef={svgRef}
      exportName="heads"
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="group"
          aria-label={`Head contributions, ${rows.length} layers by ${H} heads, for the target at position ${f.position}.${show ? ` Attention pattern of layer ${show.layer} head ${show.head}.` : ''}`}
        >
          <text x={LABEL_W} y={11} className="axis-title">
            head →
          </text>
          <text x={LABEL_W - 6} y={TOP - 3} textAnchor="end" className="axis-title">
            layer ↓
          </text>
          {Array.from({ length: H }, (_, h) =>
            cell >= 16 ? (
              <text key={h} x={gx(h)! + cell / 2} y={TOP - 3} textAnchor="middle" className="tick" aria-hidden="true">
                {h}
              </text>
            ) : null,
          )}
          {focused && <rect x={LABEL_W - 3} y={TOP - 3} width={gridW - LABEL_W + 6} height={gridH - TOP + 6} className="grid-focus" aria-hidden="true" />}
          <g
            className="grid"
            tabIndex={0}
            role="grid"
            aria-label="Head grid: arrow keys move, Enter pins the head"
            aria-rowcount={rows.length}
            aria-colcount={H}
            aria-activedescendant={focused && rows.includes(cursor.layer) ? `${cellId}-${cursor.layer}-${cursor.head}` : undefined}
            onKeyDown={onKey}
            onFocus={() => {
              setFocused(true);
              setHover(cursor);
            }}
            onBlur={() => {
              setFocused(false);
              setHover(null);
            }}
          >
            {rows.map((l, n) => (
              <g key={l} role="row" aria-rowindex={n + 1}>
                <text x={LABEL_W - 6} y={gy(n)! + cell / 2} dominantBaseline="middle" textAnchor="end" className="tick" aria-hidden="true">
                  {l}
                </text>
                {grid[n].map((v, h) => {
                  const isPinned = show?.layer === l && show?.head === h;
                  const isHover = hover?.layer === l && hover?.head === h;
                  return (
                    <g
                      key={h}
                      id={`${cellId}-${l}-${h}`}
                      role="gridcell"
                      aria-colindex={h + 1}
                      aria-label={`${cell >= 34 ? `${cellText(v)}: ` : ''}${describe({ layer: l, head: h })}`}
                      aria-selected={isPinned}
                      className="cell"
                      data-layer={l}
                      data-head={h}
                      onClick={() => {
                        setCursor({ layer: l, head: h });
                        pinHead(isPinned ? null : { layer: l, head: h });
                      }}
                      onMouseEnter={() => setHover({ layer: l, head: h })}
                      onMouseLeave={() => setHover(null)}
                      onMouseMove={(e) => {
                        const r = wrapEl!.getBoundingClientRect();
                        setTip({ x: e.clientX - r.left, y: e.clientY - r.top, content: <span className="num">{describe({ layer: l, head: h })}</span> });
                      }}
                    >
                      <rect x={gx(h)! + 0.5} y={gy(n)! + 0.5} width={cell - 1} height={cell - 1} fill={scale(v)} />
                      {cell >= 34 && (
                        <text
                          x={gx(h)! + cell / 2}
                          y={gy(n)! + cell / 2 + 1}
                          textAnchor="middle"
                          dominantBaseline="middle"
                          className="cell-text"
                          style={{ fill: scale.ink(v) }}
                          aria-hidden="true"
                        >
                          {cellText(v)}
                        </text>
                      )}
                      {(isPinned || isHover) && (
                        <rect x={gx(h)! + 1} y={gy(n)! + 1} width={cell - 2} height={cell - 2} className={isPinned ? 'pin-outline' : 'hover-outline'} />
                      )}
                    </g>
                  );
                })}
              </g>
            ))}
            {focused && rows.includes(cursor.layer) && (
              <g aria-hidden="true">
                <rect x={gx(cursor.head)! + 1.5} y={gy(rows.indexOf(cursor.layer))! + 1.5} width={cell - 3} height={cell - 3} className="cursor-halo" />
                <rect x={gx(cursor.head)! + 1.5} y={gy(rows.indexOf(cursor.layer))! + 1.5} width={cell - 3} height={cell - 3} className="cursor-outline" />
              </g>
            )}
          </g>
          <DivergingLegend scale={scale} x={LABEL_W} y={gridH + 8} width={Math.min(160, cell * H)} />

          {show && (
            <g className="attention" transform="translate(0,0)">
              <text x={ax0} y={11} className="axis-title">
                {`L${show.layer} H${show.head} attention (row: query, column: key)`}
              </text>
              {!patOk && (
                <text x={ax0} y={TOP + 24} className={pat?.status === 'failed' ? 'error-text' : 'muted-text'} data-testid="pattern-note">
                  {pat?.status === 'failed'
                    ? `could not fetch: ${pat.error}`
                    : pat?.status === 'absent'
                      ? pat.note
                      : pat?.status === 'done'
                        ? 'pattern is from another prompt: run again'
                        : 'fetching…'}
                </text>
              )}
              {patOk && A && (
                <>
                  {showLabels &&
                    f.result.tokens.slice(win.from, win.from + n).map((t, k) => (
                      <text
                        key={`q${k}`}
                        x={aLeft - 4}
                        y={aTop + k * ac + ac / 2}
                        textAnchor="end"
                        dominantBaseline="middle"
                        className={`tick mono${win.from + k === f.position ? ' strong' : ''}`}
                      >
                        {fit(tokenLabel(t.text), labelW - 6, MONO)}
                      </text>
                    ))}
                  {showLabels &&
                    f.result.tokens.slice(win.from, win.from + n).map((t, k) => (
                      <text key={`k${k}`} transform={`translate(${aLeft + k * ac + ac / 2},${aTop - 4}) rotate(-60)`} className="tick mono">
                        {fit(tokenLabel(t.text), 44, MONO)}
                      </text>
                    ))}
                  <AttentionImage
                    A={A}
                    T={n}
                    x={aLeft}
                    y={aTop}
                    cell={ac}
                    color={seq}
                    onHover={(q, k, e) => {
                      const r = wrapEl!.getBoundingClientRect();
                      setTip({
                        x: e.clientX - r.left,
                        y: e.clientY - r.top,
                        content: (
                          <span className="num">
                            query {win.from + q} → key {win.from + k}: {num(A[q * n + k], 3)}
                          </span>
                        ),
                      });
                    }}
                  />
                  <rect x={aLeft - 0.5} y={aTop + (f.position - win.from) * ac - 0.5} width={n * ac} height={ac} className="row-outline" />
                  {headStrip && (
                    <g>
                      {headStrip.map((v, q) => (
                        <rect key={q} x={aLeft + n * ac + 6} y={aTop + q * ac} width={strip} height={ac - 0.5} fill={stripScale(v)}>
                          <title>{`position ${win.from + q}: this head contributes ${signed(v)} to the prediction there`}</title>
                        </rect>
                      ))}
                    </g>
                  )}
                  <text x={ax0} y={aTop + n * ac + 16} className="tick">
                    {`attention weight 0 … ${num(aMax, 2)} (blue) · outlined row: the selected position`}
                  </text>
                  {n < T && (
                    <text x={ax0} y={aTop + n * ac + 44} className="tick" data-testid="pattern-window">
                      {`positions ${win.from}–${win.from + n - 1} of ${T}, the block of the selected one; it gives ${percent(attentionBefore(patOk!.A, T, f.position, win))} of its attention to keys before ${win.from}`}
                    </text>
                  )}
                  {headStrip && (
                    <text x={ax0} y={aTop + n * ac + 30} className="tick">
                      {'strip at the right: this head’s score for the prediction at each position (orange −, purple +)'}
                    </text>
                  )}
                </>
              )}
            </g>
          )}
        </svg>
        <Tip tip={tip} width={width} />
        <span className="visually-hidden" aria-live="polite">
          {hover ? describe(hover) : ''}
        </span>
      </div>
    </Panel>
  );
}
