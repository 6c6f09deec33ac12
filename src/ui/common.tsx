// Small pieces every view uses: the panel frame with its export buttons, a width-tracking hook,
// a tooltip, the diverging colour legend and the focus hook. No engine access here.

import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from 'react';
import { specialMask } from '../depass/words';
import { useApp } from '../state';
import { focusOf, generatedPositions, generationOf, specialIdsOf, specialPositionsOf } from '../state/selectors';
import type { Focus } from '../state/types';
import type { Diverging } from './colors';
import { download, downloadPng, downloadSvg, exportStem } from './export';
import { captionLines } from './export-caption';
import { csvBlob, runCsv } from './export-table';
import { clip, num, plainText, tokenLabel } from './format';
import { sourceSet, type SourceSet } from './sources';

/** The focus of the views: result and target index for the shown position. */
export function useFocus(): Focus | null {
  const result = useApp((s) => s.result);
  const overrides = useApp((s) => s.overrides);
  const selected = useApp((s) => s.selected);
  return useMemo(() => focusOf(result, overrides, selected), [result, overrides, selected]);
}

/** The focus's sources as the views list them: tokens or words, special tokens shown or set apart. */
export function useSources(f: Focus | null): SourceSet | null {
  const words = useApp((s) => s.words);
  const hideSpecial = useApp((s) => s.hideSpecial);
  const ids = useApp(specialIdsOf);
  const positions = useApp(specialPositionsOf);
  const tokens = f?.result.tokens;
  const prompt = f?.result.prompt ?? '';
  return useMemo(
    () => (tokens ? sourceSet(tokens, prompt, specialMask(tokens, ids, positions), { words, hideSpecial }) : null),
    [tokens, prompt, ids, positions, words, hideSpecial],
  );
}

/**
 * Tracks an element's content width (for charts that fill their panel). A callback ref, so an
 * element that appears after the first render (charts wait for results) is still observed.
 */
export function useWidth<T extends HTMLElement>(fallback = 480): { ref: (el: T | null) => void; width: number; el: T | null } {
  const [el, setEl] = useState<T | null>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    if (!el) return;
    const update = () => setWidth(Math.max(160, Math.floor(el.clientWidth)));
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return { ref: setEl, width, el };
}

interface PanelProps {
  id: string;
  title: string;
  /** One line under the title: what is plotted, in which unit. */
  caption?: ReactNode;
  svgRef?: RefObject<SVGSVGElement | null>;
  /** Name used in exported files and the SVG <title>. */
  exportName?: string;
  tools?: ReactNode;
  className?: string;
  /** The view lists source tokens: its exports say whether they were words and special tokens hidden. */
  bySource?: boolean;
  /** Modes whose table a CSV button beside PNG and SVG exports. */
  csvModes?: string[];
  /** The caption block of exports when it is not the focus's own (a comparison names both runs). */
  exportCaption?: () => string[];
  children: ReactNode;
}

export function Panel({ id, title, caption, svgRef, exportName, tools, className, bySource, csvModes, exportCaption, children }: PanelProps) {
  const model = useApp((s) => s.result?.model.name ?? s.model?.name ?? 'model');
  const prompt = useApp((s) => s.result?.prompt ?? '');
  const vocab = useApp((s) => s.vocab);
  const shared = useApp((s) => s.shared !== null);
  const words = useApp((s) => s.words);
  const hideSpecial = useApp((s) => s.hideSpecial);
  const f = useFocus();
  const [err, setErr] = useState<string | null>(null);
  const canExport = !!svgRef;
  const stem = exportStem(model, prompt, exportName ?? title);
  const svg = () => svgRef?.current ?? null;
  // Every picture carries what it shows: model, fingerprint, prompt, position, target, rule.
  const generation = useApp(generationOf);
  const firstGenerated = useApp((s) => generatedPositions(s)[0] ?? null);
  const generated = generation && firstGenerated !== null ? { first: firstGenerated, temperature: generation.temperature, seed: generation.seed } : null;
  const captionText = () =>
    exportCaption ? exportCaption() : f ? captionLines(title, f, vocab, shared, bySource ? { words, hideSpecial } : undefined, generated) : [];
  return (
    <section className={`panel ${className ?? ''}`} id={id} aria-labelledby={`${id}-title`} data-view={id}>
      <header className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {caption ? <span className="caption">{caption}</span> : <span className="spacer" />}
        {tools}
        {canExport && (
          <span className="export" role="group" aria-label={`Export ${title}`}>
            <button
              type="button"
              className="small"
              aria-label={`Export ${title} as PNG`}
              onClick={() => {
                const s = svg();
                if (s) downloadPng(s, stem, `${title}: ${plainText(prompt)}`, captionText()).catch((e: Error) => setErr(e.message));
              }}
            >
              PNG
            </button>
            <button
              type="button"
              className="small"
              aria-label={`Export ${title} as SVG`}
              onClick={() => {
                const s = svg();
                if (s) downloadSvg(s, stem, `${title}: ${plainText(prompt)}`, captionText());
              }}
            >
              SVG
            </button>
            {csvModes && (
              <button
                type="button"
                className="small"
                aria-label={`Export ${title} as CSV`}
                title={`The ${csvModes.join(' and ')} scores of every target of the run as a table (one row per component${
                  words && csvModes.includes('token') ? '; source tokens per word' : ''
                })`}
                onClick={() => {
                  const text = runCsv(useApp.getState(), csvModes);
                  if (text !== null) download(csvBlob(text), `${stem}.csv`);
                }}
              >
                CSV
              </button>
            )}
          </span>
        )}
      </header>
      {err && (
        <p className="error" role="alert">
          {err}
        </p>
      )}
      <div className="panel-body">{children}</div>
    </section>
  );
}

/**
 * Token text in HTML: visible whitespace and controls, its own bidirectional island (<bdi>), cut
 * to `max` characters with the whole text in the tooltip.
 */
export function Tok({ text, max = 40, className }: { text: string; max?: number; className?: string }) {
  const label = tokenLabel(text);
  return (
    <bdi className={`mono tok-inline${className ? ` ${className}` : ''}`} title={label.length > max ? label : undefined}>
      {clip(label, max)}
    </bdi>
  );
}

/** A message shown in place of a chart that has nothing to show yet. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export interface TipState {
  x: number;
  y: number;
  content: ReactNode;
}

/** A tooltip positioned inside a `position: relative` container, kept inside its width. */
export function Tip({ tip, width }: { tip: TipState | null; width: number }) {
  if (!tip) return null;
  const left = Math.min(Math.max(4, tip.x + 12), Math.max(4, width - 240));
  return (
    <div className="tip" style={{ left, top: tip.y + 14 }} role="tooltip">
      {tip.content}
    </div>
  );
}

/** A horizontal diverging legend: orange negative, purple positive, zero in the middle. */
export function DivergingLegend({ scale, x, y, width = 140, unit = 'logit' }: { scale: Diverging; x: number; y: number; width?: number; unit?: string }) {
  const id = `grad-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const stops = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1];
  return (
    <g className="legend" transform={`translate(${x},${y})`} aria-hidden="true">
      <defs>
        <linearGradient id={id}>
          {stops.map((t) => (
            <stop key={t} offset={t} stopColor={scale(-scale.max + 2 * scale.max * t)} />
          ))}
        </linearGradient>
      </defs>
      <rect width={width} height={8} fill={`url(#${id})`} stroke="#999" strokeWidth={0.5} />
      <text x={0} y={20} className="tick">
        {`−${num(scale.max, 3)}`}
      </text>
      <text x={width / 2} y={20} className="tick" textAnchor="middle">
        0
      </text>
      <text x={width} y={20} className="tick" textAnchor="end">
        {`+${num(scale.max, 3)}`}
      </text>
      <text x={width + 6} y={8} className="tick">
        {unit}
      </text>
    </g>
  );
}

/** Calls fn after `ms` without changes to deps. */
export function useDebounced(fn: () => void, ms: number, deps: unknown[]): void {
  const f = useRef(fn);
  useEffect(() => {
    f.current = fn;
  });
  useEffect(() => {
    const t = setTimeout(() => f.current(), ms);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
