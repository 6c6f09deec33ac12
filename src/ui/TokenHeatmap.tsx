// The token heatmap: the prompt as chips (tokens, or words whose score is their tokens' sum), each
// coloured by its signed contribution to the selected position's target (diverging PuOr,
// symmetric domain). Click selects a position (a word's last token), hover shows the score and its
// share of the logit. The chips are a listbox: the selected one is in the Tab order and ← → move
// the selection and the focus with it. Hidden special tokens are one total under the chips. SVG,
// so it exports like the rest. A long prompt is shown a page of PAGE chips at a time (the page
// that holds the selection), under an overview strip of every chip's colour that selects on
// click: a click then redraws a few hundred chips, not thousands.

import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useApp } from '../state';
import { generatedPositions } from '../state/selectors';
import { diverging, maxAbs } from './colors';
import { DivergingLegend, Empty, Panel, Tip, useFocus, useSources, useWidth } from './common';
import { clip, compact, heldDecimals, heldSigned, num, percent, signed, tokenLabel } from './format';
import { MONO, fit, textWidth, wrapChips } from './layout';
import { hiddenTotal, spanLabel, sumAt } from './sources';
import { targetName } from './summary';

const LINE = 44;
const PAD_X = 5;
const CHIP_H = 38;
/** The score printed under each token, in a smaller face. */
const SMALL = '10px "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace';
const MAX_CHIP = 180;
/** Chips drawn at once; longer prompts are paged, with the overview strip above. */
export const PAGE = 256;
const STRIP_H = 12;

export function TokenHeatmap() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const select = useApp((s) => s.select);
  // Positions that carry a chosen target (or target vs distractor), marked on their chip.
  const overrides = useApp((s) => s.overrides);
  const chosenAt = useMemo(() => new Map(overrides.map((o) => [o.position, o])), [overrides]);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(800);
  const svgRef = useRef<SVGSVGElement>(null);
  // The hovered chip (its index in the shown sources) and where; the tooltip's words are worked out
  // at render time, so they follow the selection (a click changes what "after" means).
  const [hovered, setHovered] = useState<{ s: number; x: number; y: number } | null>(null);

  const tokens = f?.result.tokens;
  const sources = useSources(f);
  const generatedAt = useApp(useShallow(generatedPositions));
  const generated = useMemo(() => new Set(generatedAt), [generatedAt]);
  const units = useMemo(() => sources?.shown ?? [], [sources]);
  const labels = useMemo(() => units.map((u) => tokenLabel(u.text)), [units]);
  // The page of chips that holds the selected position (all of them for a short prompt).
  const paged = units.length > PAGE;
  const selectedUnit = f
    ? Math.max(
        0,
        units.findIndex((u) => u.first <= f.position && f.position <= u.last),
      )
    : 0;
  const start = paged ? Math.floor(selectedUnit / PAGE) * PAGE : 0;
  const end = paged ? Math.min(units.length, start + PAGE) : units.length;
  const top = paged ? STRIP_H + 20 : 0;
  const layout = useMemo(() => {
    // Wide enough for the score line too, so chips keep their place when the selection moves.
    const scoreW = textWidth('−0.00', SMALL);
    const ws = labels.slice(start, end).map((l) => Math.min(MAX_CHIP, Math.max(textWidth(l, MONO), scoreW)));
    return wrapChips(ws, width - 2, { gap: 3, lineHeight: LINE, padX: PAD_X });
  }, [labels, width, start, end]);

  const scores = f?.result.token?.scores[f.i] ?? null;
  // A chip's score: its token's, or the exact sum of its word's tokens'.
  const unitScores = useMemo(() => (scores ? units.map((u) => sumAt(scores, u.positions)) : null), [scores, units]);
  const scale = useMemo(() => diverging(maxAbs(unitScores ?? [])), [unitScores]);
  const position = f?.position ?? null;
  const overviewColors = useMemo(
    () =>
      paged && position !== null
        ? units.map((u, k) => (unitScores && u.first <= position ? scale(unitScores[k]) : u.first > position ? '#f4f4f5' : '#ffffff'))
        : [],
    [paged, units, unitScores, scale, position],
  );
  // A shared run prints no more digits than its link holds.
  const shared = useApp((s) => s.shared !== null);
  const held = useMemo(() => (shared && scores ? heldDecimals(scores) : null), [shared, scores]);
  const cell = (v: number) => (held === null ? compact(v) : heldSigned(v, held).replace('+', ''));
  const full = (v: number, digits = 4) => (held === null ? signed(v, digits) : heldSigned(v, held));

  // Focus follows the selection when the keyboard moved it from a focused chip.
  useEffect(() => {
    const svg = svgRef.current;
    if (position === null || !svg || !svg.contains(document.activeElement)) return;
    const chip = Array.from(svg.querySelectorAll<SVGGElement>('g.tok')).find(
      (g) => Number(g.dataset.first) <= position && position <= Number(g.dataset.position),
    );
    if (chip && chip !== document.activeElement) chip.focus();
  }, [position]);

  if (!f || !tokens || !sources)
    return (
      <Panel id="heatmap" title="Token attribution">
        <Empty>
          <NextStep />
        </Empty>
      </Panel>
    );

  const logit = f.target.logit;
  const unit = sources.words ? 'word' : 'token';
  // Hidden special tokens up to the selected position, as one total like a rest.
  const special = scores ? hiddenTotal(sources, scores, f.position) : null;
  const specialY = top + layout.height + 12;
  const legendY = top + layout.height + (special ? 30 : 10);
  const height = legendY + 26;
  const caption = scores ? (
    <>
      contribution of each source {unit} to {targetName(f, vocab)} at position {f.position} · logit {num(logit)}
      {sources.words ? ' · a word’s score is the sum of its tokens’' : ''}
      {paged ? ` · ${unit}s ${start + 1}–${end} of ${units.length} shown (the strip above them shows all; click it to go there)` : ''}
    </>
  ) : (
    <>run with “tokens” mode to colour the sources</>
  );
  const scoreOf = (k: number) => (unitScores && units[k].first <= f.position ? unitScores[k] : null);
  const where = (k: number) => (units[k].positions.length > 1 ? `positions ${spanLabel(units[k].positions)}` : `position ${units[k].first}`);
  const ids = (k: number) => units[k].positions.map((p) => tokens[p].id).join(' ');

  const tipContent = (k: number) => {
    const v = scoreOf(k);
    const u = units[k];
    const holds = u.first <= f.position && f.position <= u.last;
    return (
      <>
        <div>
          <b className="mono">{labels[k]}</b>{' '}
          <span className="muted">{units[k].positions.length > 1 ? `pos ${spanLabel(u.positions)} · ids ${ids(k)}` : `pos ${u.first} · id ${ids(k)}`}</span>
        </div>
        {v !== null ? (
          <div className="num">
            score {full(v)} ·{' '}
            {Math.abs(logit) > 1e-9 ? `${percent(v / logit)} of ${f.target.contrast_id !== null ? 'the logit difference' : 'the logit'}` : 'logit ≈ 0'}
          </div>
        ) : (
          <div className="muted">{u.first > f.position ? 'after the selected position: no contribution to it' : 'no token scores in this run'}</div>
        )}
        <div className="muted">
          {holds
            ? 'the selected position: its prediction is explained'
            : `click to explain ${u.positions.length > 1 ? 'the word’s last position' : 'this position'}`}
        </div>
      </>
    );
  };

  return (
    <Panel id="heatmap" title="Token attribution" caption={caption} svgRef={svgRef} exportName="tokens" bySource csvModes={scores ? ['token'] : undefined}>
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setHovered(null)}>
        <svg ref={svgRef} width={width} height={height} role="group" aria-label="Token attribution" className="heatmap">
          <g
            role="listbox"
            aria-orientation="horizontal"
            aria-label={`Prompt ${unit}s coloured by their contribution to the prediction at position ${f.position}; the left and right arrow keys move the selected position.`}
          >
            {layout.boxes.map((b) => {
              const k = start + b.index;
              const u = units[k];
              const v = scoreOf(k);
              const selected = u.first <= f.position && f.position <= u.last;
              const after = u.first > f.position;
              const shown = fit(labels[k], MAX_CHIP, MONO);
              const chosen = chosenAt.get(u.last);
              const made = u.positions.some((s) => generated.has(s));
              const chosenText = chosen
                ? `, chosen target ${tokenLabel(vocab[chosen.target] ?? `#${chosen.target}`)}${chosen.contrast !== null ? ` vs ${tokenLabel(vocab[chosen.contrast] ?? `#${chosen.contrast}`)}` : ''}`
                : '';
              return (
                <g
                  key={u.first}
                  role="option"
                  aria-selected={selected}
                  tabIndex={selected ? 0 : -1}
                  aria-label={`${shown}${v !== null ? ` ${cell(v)}` : ''}, ${where(k)}${v !== null ? `, score ${full(v, 3)}` : ''}${clip(chosenText, 80)}${made ? ', generated' : ''}`}
                  className={`tok${selected ? ' selected' : ''}${after ? ' after' : ''}${chosen ? ' chosen' : ''}${made ? ' generated' : ''}`}
                  transform={`translate(${b.x + 1},${top + b.y + 2})`}
                  onClick={() => select(u.last)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      select(u.last);
                    } else if (sources.words && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
                      // Words move word by word (to the neighbour's last token); tokens use the page-wide keys.
                      e.preventDefault();
                      const next = units[Math.min(Math.max(0, k + (e.key === 'ArrowLeft' ? -1 : 1)), units.length - 1)];
                      select(next.last);
                    }
                  }}
                  onMouseMove={(e) => {
                    const r = wrapEl!.getBoundingClientRect();
                    setHovered({ s: k, x: e.clientX - r.left, y: e.clientY - r.top });
                  }}
                  data-position={u.last}
                  data-first={u.first}
                  data-score={v ?? undefined}
                  data-generated={made ? 'true' : undefined}
                >
                  <rect width={b.width} height={CHIP_H} rx={3} fill={v !== null ? scale(v) : after ? '#f4f4f5' : '#ffffff'} className="tok-bg" />
                  <text
                    x={PAD_X}
                    y={13}
                    dominantBaseline="middle"
                    style={{ fill: v !== null ? scale.ink(v) : after ? '#6b6b73' : '#1b1b1f' }}
                    className="tok-text"
                  >
                    {/* A trailing space: the token and its score are two words to assistive technology. */}
                    {v !== null ? `${shown} ` : shown}
                  </text>
                  {made && (
                    <line x1={3} x2={b.width - 3} y1={CHIP_H - 2} y2={CHIP_H - 2} stroke="#1b1b1f" strokeWidth={1.2} strokeDasharray="3 2" aria-hidden="true" />
                  )}
                  {chosen && <path d={`M${b.width - 9},0 h9 v9 z`} className="chosen-mark" aria-hidden="true" />}
                  {v !== null && (
                    <text x={PAD_X} y={29} dominantBaseline="middle" style={{ fill: scale.ink(v) }} className="tok-score" aria-hidden="true">
                      {cell(v)}
                    </text>
                  )}
                </g>
              );
            })}
          </g>
          {paged && <Overview colors={overviewColors} width={width - 2} page={[start, end]} selected={selectedUnit} onPick={(k) => select(units[k].last)} />}
          {special && (
            <text
              x={2}
              y={specialY}
              className="tick special-total"
              data-testid="special-total"
              data-score={special.score}
              data-positions={special.positions.join(' ')}
            >
              {`special tokens (${special.positions.length}, hidden): ${full(special.score, 3)}`}
            </text>
          )}
          {scores && (
            <DivergingLegend
              scale={scale}
              x={0}
              y={legendY}
              width={160}
              unit={`score (logit units) · outlined: selected position${chosenAt.size > 0 ? ' · corner mark: a chosen target there' : ''}${
                generated.size > 0 ? ' · dashed underline: generated by the model' : ''
              }`}
            />
          )}
        </svg>
        <Tip tip={hovered && hovered.s < units.length ? { x: hovered.x, y: hovered.y, content: tipContent(hovered.s) } : null} width={width} />
      </div>
    </Panel>
  );
}

/**
 * Every chip's colour in one strip (an image, so that a thousand chips cost one element), the shown
 * page outlined and the selection marked. A click selects the chip under the pointer, which brings
 * its page. The keyboard has ← → and Home/End for the same; the strip is for the mouse.
 */
function Overview({
  colors,
  width,
  page,
  selected,
  onPick,
}: {
  colors: string[];
  width: number;
  page: [number, number];
  selected: number;
  onPick: (k: number) => void;
}) {
  const n = colors.length;
  const href = useMemo(() => {
    const canvas = document.createElement('canvas');
    canvas.width = n;
    canvas.height = 1;
    const ctx = canvas.getContext('2d');
    if (!ctx) return '';
    colors.forEach((c, k) => {
      ctx.fillStyle = c;
      ctx.fillRect(k, 0, 1, 1);
    });
    return canvas.toDataURL('image/png');
  }, [colors, n]);
  const x = (k: number) => (k / n) * width;
  return (
    <g className="overview" transform="translate(1,2)" aria-hidden="true" data-testid="heatmap-overview">
      <image href={href} width={width} height={STRIP_H} preserveAspectRatio="none" style={{ imageRendering: 'pixelated' }} />
      <rect width={width} height={STRIP_H} fill="none" stroke="#c9c9cf" />
      <rect x={x(page[0])} y={-1} width={Math.max(2, x(page[1]) - x(page[0]))} height={STRIP_H + 2} fill="none" stroke="#1b1b1f" strokeWidth={1.5} />
      <line x1={x(selected + 0.5)} x2={x(selected + 0.5)} y1={-2} y2={STRIP_H + 2} stroke="#1b1b1f" strokeWidth={2} />
      <rect
        width={width}
        height={STRIP_H}
        fill="transparent"
        style={{ cursor: 'pointer' }}
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          onPick(Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * n))));
        }}
      />
    </g>
  );
}

/** What to do next, from what is there: a model, a prompt, a run in progress. */
function NextStep() {
  const hasModel = useApp((s) => s.model !== null);
  const hasPrompt = useApp((s) => s.prompt.trim().length > 0);
  const running = useApp((s) => s.running !== null);
  const after = 'Then click a token (or use ← →) to explain its next-token prediction.';
  if (!hasModel) return <>Load a model (drop a folder, choose files or load a demo), type a prompt and run it. {after}</>;
  if (running) return <>Running…</>;
  if (!hasPrompt) return <>Type a prompt and press Run (Ctrl+Enter). {after}</>;
  return <>Press Run (Ctrl+Enter) to explain this prompt. {after}</>;
}
