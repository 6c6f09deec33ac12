// Two views of a comparison: the flow graph of the difference (aligned source tokens and the heads
// whose scores differ most, first − second, laid out by flow.ts from state/compare.ts's difference
// focus) and the layer chart of both runs on one set of axes (first solid, second dashed).

import { line, linkHorizontal, scaleLinear, scalePoint, schemeTableau10 } from 'd3';
import { useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { differenceFocus, layerShares, pairLabel, type Comparison } from '../state/compare';
import { numLayers } from '../state/selectors';
import { diverging, maxAbs } from './colors';
import { DivergingLegend, Panel, Tip, useWidth, type TipState } from './common';
import { layoutFlow, type FlowEdge } from './flow';
import { isolate, percent, signed, tokenLabel } from './format';
import { MONO, fit } from './layout';
import { useComparisonCaption } from './use-comparison';

const POS = '#5e3c99';
const NEG = '#e66101';
const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();

export function CompareFlow({ c }: { c: Comparison }) {
  const L = useApp(numLayers);
  const threshold = useApp((s) => s.flowThreshold);
  const setView = useApp((s) => s.setView);
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(900);
  const svgRef = useRef<SVGSVGElement>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const caption = useComparisonCaption('Flow of the difference', c);
  const f = useMemo(() => differenceFocus(c, tokenLabel), [c]);
  const maxSources = 14;
  const height = Math.max(240, 26 * Math.min(maxSources, (f?.position ?? 0) + 1) + 40);

  const layout = useMemo(() => {
    if (!f || L === 0) return null;
    // Attention differs between the two prompts, so token→head edges have no meaning here; each
    // source token connects to the target with its own score difference instead.
    const base = layoutFlow(f, L, {
      width,
      height,
      headsPerLayer: 3,
      maxSources,
      threshold: 0,
      attentionRow: () => null,
      tokenLabel: (s) => f.result.tokens[s].text,
      targetLabel: 'difference',
    });
    const byId = new Map(base.nodes.map((n) => [n.id, n]));
    const target = byId.get('target')!;
    const edges: FlowEdge[] = base.edges.filter((e) => !e.source.startsWith('t'));
    for (const n of base.nodes)
      if (n.kind === 'token' && n.score !== null)
        edges.push({
          id: `${n.id}>target`,
          source: n.id,
          target: 'target',
          weight: n.score,
          basis: 'exact',
          path: link({ source: [n.x + 6, n.y], target: [target.x - 6, target.y] }) ?? '',
        });
    const maxWeight = edges.reduce((m, e) => Math.max(m, Math.abs(e.weight)), 0);
    return { ...base, edges: edges.filter((e) => maxWeight > 0 && Math.abs(e.weight) >= threshold * maxWeight), maxWeight };
  }, [f, L, width, height, threshold]);
  const nodeScale = useMemo(() => diverging(maxAbs((layout?.nodes ?? []).filter((n) => n.kind !== 'target').map((n) => n.score ?? 0))), [layout]);

  if (!f || !layout)
    return (
      <Panel id="compare-flow" title="Flow of the difference">
        <p className="empty">Both runs need the “tokens” or “heads” mode.</p>
      </Panel>
    );
  const maxW = layout.maxWeight || 1;
  const sources = layout.nodes.filter((n) => n.kind === 'token').length;
  return (
    <Panel
      id="compare-flow"
      title="Flow of the difference"
      caption={
        <>
          {sources < f.position + 1 ? `the ${sources} of ${f.position + 1} aligned tokens that differ most` : `all ${sources} aligned tokens`} · token→target:
          token score difference · head→target: head score difference (first − second, both exact) · target: logit difference {signed(f.target.logit)}
        </>
      }
      svgRef={svgRef}
      exportName="flow-difference"
      exportCaption={caption}
      tools={
        <label className="field inline small">
          <span>hide below</span>
          <input
            type="range"
            min={0}
            max={0.9}
            step={0.01}
            value={threshold}
            aria-label="Difference flow graph edge threshold, as a fraction of the strongest edge"
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
          aria-label={`Flow graph of the difference between the two runs: aligned source tokens and the heads whose scores differ most, ${layout.edges.length} edges above the threshold.`}
        >
          {layout.columns.map((col, k) =>
            k === 0 || k === layout.columns.length - 1 || L <= 12 || (k - 1) % Math.ceil(L / 12) === 0 ? (
              <text key={k} x={col.x} y={14} textAnchor="middle" className="axis-title">
                {col.label}
              </text>
            ) : null,
          )}
          <g className="edges">
            {layout.edges.map((e) => (
              <path
                key={e.id}
                d={e.path}
                fill="none"
                stroke={e.weight >= 0 ? POS : NEG}
                strokeWidth={0.6 + (7 * Math.abs(e.weight)) / maxW}
                strokeOpacity={0.55}
                data-edge={e.id}
                data-weight={e.weight}
                onMouseMove={(ev) => {
                  const r = wrapEl!.getBoundingClientRect();
                  setTip({
                    x: ev.clientX - r.left,
                    y: ev.clientY - r.top,
                    content: <span className="num">{`${e.source} → target: ${signed(e.weight)}`}</span>,
                  });
                }}
              />
            ))}
          </g>
          <g className="nodes">
            {layout.nodes.map((n) => (
              <g key={n.id} className={`node ${n.kind}`} transform={`translate(${n.x},${n.y})`} data-node={n.id} data-score={n.score ?? undefined}>
                {n.kind === 'head' || n.kind === 'module' ? (
                  <rect x={-7} y={-7} width={14} height={14} rx={2} fill={n.score === null ? '#ccc' : nodeScale(n.score)} stroke="#444" strokeWidth={0.6} />
                ) : (
                  <circle
                    r={n.kind === 'target' ? 8 : 6}
                    fill={n.kind === 'target' ? '#1b1b1f' : n.score === null ? '#ccc' : nodeScale(n.score)}
                    stroke="#444"
                    strokeWidth={0.6}
                  />
                )}
                {n.kind === 'token' && (
                  <text x={-10} y={1} textAnchor="end" dominantBaseline="middle" className="mono node-label">
                    {`${isolate(fit(n.label, 96, MONO))} ${n.score === null ? '' : signed(n.score, 2)}`}
                  </text>
                )}
                {(n.kind === 'head' || n.kind === 'module') && (
                  <text x={9} y={1} dominantBaseline="middle" className="node-label">
                    {n.label}
                  </text>
                )}
                {n.kind === 'target' && (
                  <text x={12} y={1} dominantBaseline="middle" className="mono node-label strong">
                    {`Δ logit ${signed(n.score ?? 0, 3)}`}
                  </text>
                )}
              </g>
            ))}
          </g>
          <DivergingLegend scale={nodeScale} x={8} y={height + 8} width={140} unit="first − second (logit units)" />
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}

const TOP_N = 5;
const M = { left: 44, right: 190, top: 14, bottom: 32 };

export function CompareLayers({ c }: { c: Comparison }) {
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(640);
  const svgRef = useRef<SVGSVGElement>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const caption = useComparisonCaption('Layer by layer, both runs', c);
  const data = useMemo(() => layerShares(c, TOP_N), [c]);
  if (!data)
    return (
      <Panel id="compare-layers" title="Layer by layer, both runs">
        <p className="empty">Both runs need the “tokens” mode with per-layer detail.</p>
      </Panel>
    );
  const height = 240;
  const layers = data.a.map((_, l) => l);
  const x = scalePoint<number>()
    .domain(layers)
    .range([M.left, width - M.right])
    .padding(0.1);
  const all = [...data.a.flat(), ...data.b.flat()].filter((v): v is number => v !== null);
  const y = scaleLinear()
    .domain([Math.min(0, ...all), Math.max(0.05, ...all)])
    .nice()
    .range([height - M.bottom, M.top]);
  const colour = (k: number) => schemeTableau10[k % 10];
  const path = (vals: (number | null)[]) =>
    line<number | null>()
      .defined((v) => v !== null)
      .x((_, l) => x(l)!)
      .y((v) => y(v ?? 0))(vals) ?? '';
  const a = c.first.result.tokens;
  const b = c.second.result.tokens;
  const tickEvery = Math.max(1, Math.ceil(22 / Math.max(1, x.step())));
  const series = (which: 'a' | 'b') => (which === 'a' ? data.a : data.b);
  return (
    <Panel
      id="compare-layers"
      title="Layer by layer, both runs"
      caption={<>share of each of the strongest aligned tokens in the read-out after every layer (score / Σ|scores|): first run solid, second dashed</>}
      svgRef={svgRef}
      exportName="layers-compared"
      exportCaption={caption}
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`Line chart of the shares of the ${data.pairs.length} strongest aligned tokens after each layer, first run solid, second dashed.`}
        >
          {y.ticks(5).map((t) => (
            <g key={t}>
              <line x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} className={t === 0 ? 'zero' : 'gridline'} />
              <text x={M.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle" className="tick">
                {percent(t)}
              </text>
            </g>
          ))}
          {layers
            .filter((l) => l % tickEvery === 0 || l === layers.length - 1)
            .map((l) => (
              <text key={l} x={x(l)} y={height - M.bottom + 14} textAnchor="middle" className="tick">
                {l}
              </text>
            ))}
          <text x={(M.left + width - M.right) / 2} y={height - 4} textAnchor="middle" className="axis-title">
            after layer
          </text>
          {data.pairs.map((p, k) =>
            (['a', 'b'] as const).map((which) => (
              <g key={`${k}${which}`} data-series={`${which === 'a' ? 'first' : 'second'}:${k}`}>
                <path
                  d={path(series(which).map((r) => r[k]))}
                  fill="none"
                  stroke={colour(k)}
                  strokeWidth={1.8}
                  strokeDasharray={which === 'b' ? '5 3' : undefined}
                />
                {series(which).map((r, l) =>
                  r[k] === null ? null : (
                    <circle
                      key={l}
                      cx={x(l)}
                      cy={y(r[k]!)}
                      r={which === 'a' ? 3 : 2.5}
                      fill={which === 'a' ? colour(k) : '#fff'}
                      stroke={colour(k)}
                      onMouseMove={(e) => {
                        const rc = wrapEl!.getBoundingClientRect();
                        setTip({
                          x: e.clientX - rc.left,
                          y: e.clientY - rc.top,
                          content: (
                            <span className="num">
                              {which === 'a' ? 'first' : 'second'} run, {pairLabel(p, a, b, tokenLabel)} after layer {l}: {percent(r[k]!)}
                            </span>
                          ),
                        });
                      }}
                    />
                  ),
                )}
              </g>
            )),
          )}
          {data.pairs.map((p, k) => (
            <g key={k} transform={`translate(${width - M.right + 6},${M.top + 6 + k * 18})`}>
              <line x1={0} x2={10} y1={0} y2={0} stroke={colour(k)} strokeWidth={3} />
              <text x={14} y={0} dominantBaseline="middle" className="mono tick legend-label">
                {fit(pairLabel(p, a, b, tokenLabel), M.right - 24, MONO)}
              </text>
            </g>
          ))}
          <g transform={`translate(${width - M.right + 6},${M.top + 6 + data.pairs.length * 18 + 6})`} className="tick">
            <line x1={0} x2={18} y1={0} y2={0} stroke="#55555c" strokeWidth={1.8} />
            <text x={22} y={0} dominantBaseline="middle" className="tick">
              first
            </text>
            <line x1={0} x2={18} y1={16} y2={16} stroke="#55555c" strokeWidth={1.8} strokeDasharray="5 3" />
            <text x={22} y={16} dominantBaseline="middle" className="tick">
              second
            </text>
          </g>
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}
