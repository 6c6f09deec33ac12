// The flow graph: source tokens (or words) → the strongest heads (and modules) per layer → the
// target; hidden special tokens are one node below the sources.
// Head→target edges are the exact DePass head scores; token→head edges weight each head's score
// by its attention from the selected position (an approximation, drawn dashed-free but thinner
// in meaning, and said so in the caption). A slider hides weak edges; hover previews, click pins.

import { useEffect, useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { numLayers } from '../state/selectors';
import { headKey } from '../state/selectors';
import { diverging, maxAbs } from './colors';
import { DivergingLegend, Empty, Panel, Tip, useFocus, useSources, useWidth, type TipState } from './common';
import { layoutFlow, type FlowNode, type FlowSource } from './flow';
import { heldDecimals, heldSigned, isolate, num, signed, tokenLabel } from './format';
import { MONO, fit } from './layout';
import { hiddenTotal, spanLabel, sumAt } from './sources';

const POS = '#5e3c99';
const NEG = '#e66101';

export function FlowGraph() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const patterns = useApp((s) => s.patterns);
  const fetchPatterns = useApp((s) => s.fetchPatterns);
  const threshold = useApp((s) => s.flowThreshold);
  const setView = useApp((s) => s.setView);
  const pinHead = useApp((s) => s.pinHead);
  const L = useApp(numLayers);
  const shared = useApp((s) => s.shared !== null);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(900);
  const svgRef = useRef<SVGSVGElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const [pin, setPin] = useState<string | null>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const T = f?.result.tokens.length ?? 0;
  const position = f?.position ?? 0;

  const maxSources = 14;
  const headsPerLayer = 3;
  const set = useSources(f);
  // The sources the graph ranks (tokens or words up to the position, hidden ones left out) and the hidden ones' total.
  const { sources, rest } = useMemo(() => {
    const row = f?.result.token?.scores[f.i] ?? null;
    if (!f || !set) return { sources: [] as FlowSource[], rest: null };
    const sources = set.shown
      .filter((u) => u.first <= f.position)
      .map((u) => ({ key: String(u.last), positions: u.positions, label: tokenLabel(u.text), score: row ? sumAt(row, u.positions) : null }));
    const hidden = row ? hiddenTotal(set, row, f.position) : null;
    return { sources, rest: hidden ? { key: 'special', positions: hidden.positions, label: 'special tokens', score: hidden.score } : null };
  }, [f, set]);
  const height = Math.max(240, 26 * (Math.min(maxSources, sources.length) + (rest ? 1 : 0)) + 40);

  const layout = useMemo(() => {
    if (!f || L === 0) return null;
    return layoutFlow(f, L, {
      sources,
      rest,
      width,
      height,
      headsPerLayer,
      maxSources,
      threshold,
      attentionRow: (l, h) => {
        const p = patterns[headKey({ layer: l, head: h })];
        if (!p || p.status !== 'done' || p.T !== T) return null;
        return p.A.subarray(position * T, (position + 1) * T);
      },
      tokenLabel: (s) => tokenLabel(f.result.tokens[s].text),
      // The target's label fits the graph's right margin: one token, or a token − its distractor.
      targetLabel:
        f.target.contrast_id === null
          ? isolate(fit(tokenLabel(vocab[f.target.id] ?? `#${f.target.id}`), 108, MONO))
          : `${isolate(fit(tokenLabel(vocab[f.target.id] ?? `#${f.target.id}`), 48, MONO))} − ${isolate(fit(tokenLabel(vocab[f.target.contrast_id] ?? ''), 48, MONO))}`,
    });
  }, [f, L, width, height, threshold, patterns, T, position, vocab, sources, rest]);

  const wanted = layout?.wantedHeads;
  useEffect(() => {
    if (wanted && wanted.length) fetchPatterns(wanted);
  }, [wanted, fetchPatterns]);

  const nodeScale = useMemo(() => diverging(maxAbs((layout?.nodes ?? []).filter((n) => n.kind !== 'target').map((n) => n.score ?? 0))), [layout]);

  if (!f || !layout) {
    return (
      <Panel id="flow" title="Flow">
        <Empty>Run with “tokens” and “heads” to see how the sources reach the prediction.</Empty>
      </Panel>
    );
  }

  const focusId = hover ?? pin;
  const connected = new Set<string>();
  if (focusId) {
    connected.add(focusId);
    for (const e of layout.edges) {
      if (e.source === focusId) connected.add(e.target);
      if (e.target === focusId) connected.add(e.source);
    }
  }
  const maxW = layout.maxWeight || 1;
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  /** A node as edge tooltips name it: position:token, L1 H2, or the target. */
  const edgeName = (id: string) => {
    const n = byId.get(id);
    if (!n) return id;
    return n.kind === 'token'
      ? n.rest
        ? n.label
        : `${spanLabel(n.positions!)}:${isolate(n.label)}`
      : n.kind === 'head'
        ? `L${n.layer} H${n.head}`
        : n.kind === 'module'
          ? `L${n.layer} ${n.label}`
          : 'target';
  };
  const used = new Set(layout.edges.flatMap((e) => [e.source, e.target]));
  const hasAttention = layout.edges.some((e) => e.basis === 'attention');
  const spacing = layout.columns.length > 1 ? layout.columns[1].x - layout.columns[0].x : width;
  const labelEvery = Math.max(1, Math.ceil(34 / spacing));

  const drawn = layout.nodes.filter((n) => n.kind === 'token' && !n.rest).length;
  const unit = set?.words ? 'word' : 'token';
  const tokenRow = f.result.token?.scores[f.i] ?? null;
  const onNode = (n: FlowNode) => {
    setPin(pin === n.id ? null : n.id);
    if (n.kind === 'head') pinHead(pin === n.id ? null : { layer: n.layer!, head: n.head! });
  };

  return (
    <Panel
      id="flow"
      title="Flow"
      caption={
        <>
          <span data-testid="flow-sources">
            {drawn < sources.length
              ? `the ${drawn} strongest of the ${sources.length} source ${unit}s up to position ${position} shown`
              : `all ${drawn} source ${unit}s up to position ${position} shown`}
            {rest ? ' · special tokens hidden, drawn as one node' : ''}
          </span>{' '}
          · {unit}s labelled position:text · width ∝ |contribution| (purple +, orange −) · head→target: exact head score
          {hasAttention ? ' · token→head: attention from the selected position × head score (approximate)' : ''}
        </>
      }
      svgRef={svgRef}
      exportName="flow"
      bySource
      tools={
        <label className="field inline small">
          <span>hide below</span>
          <input
            type="range"
            min={0}
            max={0.9}
            step={0.01}
            value={threshold}
            aria-label="Flow graph edge threshold, as a fraction of the strongest edge"
            onChange={(e) => setView({ flowThreshold: Number(e.target.value) })}
          />
          <span className="num" style={{ width: 34 }}>
            {Math.round(threshold * 100)}%
          </span>
        </label>
      }
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height + 34}
          role="img"
          aria-label={`Flow graph from source tokens through the strongest heads of each layer to the target at position ${f.position}; ${layout.edges.length} edges above the threshold.`}
        >
          {layout.columns.map((c, k) =>
            // Deep models: label every n-th layer column so the labels do not run together.
            k === 0 || k === layout.columns.length - 1 || (k - 1) % labelEvery === 0 ? (
              <text key={k} x={c.x} y={14} textAnchor="middle" className="axis-title">
                {c.label}
              </text>
            ) : null,
          )}
          <g className="edges">
            {layout.edges.map((e) => {
              const dim = focusId !== null && !(connected.has(e.source) && connected.has(e.target) && (e.source === focusId || e.target === focusId));
              return (
                <path
                  key={e.id}
                  d={e.path}
                  fill="none"
                  stroke={e.weight >= 0 ? POS : NEG}
                  strokeWidth={0.6 + (7 * Math.abs(e.weight)) / maxW}
                  strokeOpacity={dim ? 0.06 : e.basis === 'attention' ? 0.35 : 0.6}
                  onMouseMove={(ev) => {
                    const r = wrapEl!.getBoundingClientRect();
                    setTip({
                      x: ev.clientX - r.left,
                      y: ev.clientY - r.top,
                      content: (
                        <span className="num">{`${edgeName(e.source)} → ${edgeName(e.target)}: ${signed(e.weight)}${e.basis === 'attention' ? ' (attention-weighted)' : ''}`}</span>
                      ),
                    });
                  }}
                />
              );
            })}
          </g>
          <g className="nodes">
            {layout.nodes.map((n) => {
              const dim = focusId !== null && !connected.has(n.id);
              const isolated = !used.has(n.id) && n.kind !== 'target';
              const fill = n.kind === 'target' ? '#1b1b1f' : n.score === null ? '#ccc' : nodeScale(n.score);
              return (
                <g
                  key={n.id}
                  className={`node ${n.kind}${pin === n.id ? ' pinned' : ''}`}
                  transform={`translate(${n.x},${n.y})`}
                  opacity={dim ? 0.25 : isolated ? 0.45 : 1}
                  onMouseEnter={() => setHover(n.id)}
                  onMouseLeave={() => setHover(null)}
                  onClick={() => onNode(n)}
                  onMouseMove={(ev) => {
                    const r = wrapEl!.getBoundingClientRect();
                    setTip({
                      x: ev.clientX - r.left,
                      y: ev.clientY - r.top,
                      content: (
                        <span className="num">
                          {n.kind === 'token'
                            ? n.rest
                              ? `${n.label} (positions ${spanLabel(n.positions!)}, hidden)`
                              : `${unit} ${spanLabel(n.positions!)} ${isolate(n.label)}`
                            : n.kind === 'head'
                              ? `L${n.layer} H${n.head}`
                              : n.kind === 'module'
                                ? `L${n.layer} ${n.label}`
                                : `target ${n.label}`}
                          {n.score !== null ? `: ${n.kind === 'target' ? 'logit ' + num(n.score) : signed(n.score)}` : ''}
                        </span>
                      ),
                    });
                  }}
                >
                  {n.kind === 'head' || n.kind === 'module' ? (
                    <rect x={-7} y={-7} width={14} height={14} rx={2} fill={fill} stroke="#444" strokeWidth={pin === n.id ? 2 : 0.6} />
                  ) : (
                    <circle r={n.kind === 'target' ? 8 : 6} fill={fill} stroke="#444" strokeWidth={pin === n.id ? 2 : 0.6} />
                  )}
                  {n.kind === 'token' && (
                    <text
                      x={-10}
                      y={1}
                      textAnchor="end"
                      dominantBaseline="middle"
                      className={`mono node-label${n.rest ? ' special-total' : ''}`}
                      data-position={n.rest ? undefined : n.position}
                      data-positions={n.positions!.join(' ')}
                      data-score={n.score ?? undefined}
                    >
                      {`${n.rest ? n.label : `${spanLabel(n.positions!)}:${isolate(fit(n.label, 64, MONO))}`} ${
                        n.score === null ? '' : tokenRow && shared ? heldSigned(n.score, heldDecimals(tokenRow)) : signed(n.score, 2)
                      }`}
                    </text>
                  )}
                  {(n.kind === 'head' || n.kind === 'module') && (
                    <text x={9} y={1} dominantBaseline="middle" className="node-label">
                      {n.label}
                    </text>
                  )}
                  {n.kind === 'target' && (
                    <text x={12} y={1} dominantBaseline="middle" className="mono node-label strong">
                      {n.label}
                    </text>
                  )}
                </g>
              );
            })}
          </g>
          <DivergingLegend scale={nodeScale} x={8} y={height + 8} width={140} unit="node score (logit units)" />
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}
