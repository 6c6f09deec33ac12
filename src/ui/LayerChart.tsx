// The layer chart: how the top source tokens' (or words') shares of the prediction at the selected
// position build up layer by layer, from the decomposed logit lens (token.by_layer). Share at
// layer l is the source's read-out divided by Σ|read-outs| over every source (hidden special tokens
// and the rest included) at that layer, so it stays in [−1, 1] even where the layer's logit crosses
// zero, and hiding special tokens changes no share. Their total is then one dashed line.

import { line, scaleLinear, scalePoint, schemeTableau10 } from 'd3';
import { useMemo, useRef, useState } from 'react';
import { useApp } from '../state';
import { numLayers } from '../state/selectors';
import { Empty, Panel, Tip, Tok, useFocus, useSources, useWidth, type TipState } from './common';
import { isolate, num, percent, signed, tokenLabel } from './format';
import { MONO, fit } from './layout';
import { hiddenTotal, rankSources, spanLabel, sumAt } from './sources';

const TOP_N = 6;
const M = { left: 44, right: 150, top: 14, bottom: 32 };

export function LayerChart() {
  const f = useFocus();
  const { ref: wrapRef, width, el: wrapEl } = useWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [tip, setTip] = useState<TipState | null>(null);
  const L = useApp(numLayers);

  const set = useSources(f);
  const data = useMemo(() => {
    const by = f?.result.token?.by_layer?.[f.i];
    const restBy = f?.result.token?.rest_by_layer?.[f.i];
    const final = f?.result.token?.scores[f.i];
    if (!f || !by || !final || !set) return null;
    // Lines: the strongest shown sources, then the hidden special tokens' total (dashed) when there is one.
    const lines = rankSources(set, final, f.position)
      .slice(0, TOP_N)
      .map(({ source }) => ({ key: spanLabel(source.positions), text: source.text, positions: source.positions, special: false }));
    const hidden = hiddenTotal(set, final, f.position);
    if (hidden) lines.push({ key: 'special', text: 'special tokens', positions: hidden.positions, special: true });
    const raw = by.map((row) => lines.map((u) => sumAt(row, u.positions))); // [L][line]
    const shares = by.map((row, l) => {
      const denom = set.all.reduce((a, u) => a + Math.abs(sumAt(row, u.positions)), 0) + Math.abs(restBy?.[l] ?? 0);
      return lines.map((u) => (denom > 0 ? sumAt(row, u.positions) / denom : 0));
    }); // [L][line]
    return { lines, shares, raw };
  }, [f, set]);

  if (!f || !data) {
    return (
      <Panel id="layers" title="Layer by layer">
        <Empty>Run with “tokens” and per-layer detail to see how each source’s share builds up over the layers.</Empty>
      </Panel>
    );
  }

  const height = 230;
  const layers = data.shares.map((_, l) => l);
  const x = scalePoint<number>()
    .domain(layers)
    .range([M.left, width - M.right])
    .padding(0.1);
  const lo = Math.min(0, ...data.shares.flat());
  const hi = Math.max(0.05, ...data.shares.flat());
  const y = scaleLinear()
    .domain([lo, hi])
    .nice()
    .range([height - M.bottom, M.top]);
  const path = line<number>()
    .x((_, l) => x(l)!)
    .y((v) => y(v));
  const colour = (k: number) => schemeTableau10[k % 10];
  const lastL = layers.length - 1;
  const tickEvery = Math.max(1, Math.ceil(22 / Math.max(1, x.step())));
  // End labels, nudged apart so they do not overlap, then pulled back up if they ran off the bottom.
  const GAP = 15;
  const ends = data.lines.map((u, k) => ({ k, u, y: y(data.shares[lastL][k]) })).sort((a, b) => a.y - b.y);
  for (let n = 1; n < ends.length; n++) ends[n].y = Math.max(ends[n].y, ends[n - 1].y + GAP);
  const overflow = (ends[ends.length - 1]?.y ?? 0) - (height - M.bottom);
  if (overflow > 0) for (const e of ends) e.y -= overflow;
  for (let n = ends.length - 2; n >= 0; n--) ends[n].y = Math.min(ends[n].y, ends[n + 1].y - GAP);

  return (
    <Panel
      id="layers"
      title="Layer by layer"
      caption={
        <>
          share of each top source {set?.words ? 'word' : 'token'} in the read-out after every layer (score / Σ|scores|) at position {f.position}
          {data.lines.some((u) => u.special) ? ' · dashed: the hidden special tokens together' : ''}
        </>
      }
      svgRef={svgRef}
      exportName="layers"
      bySource
    >
      <div className="chart-wrap" ref={wrapRef} onMouseLeave={() => setTip(null)}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`Line chart of the shares of the ${data.lines.length} strongest source ${set?.words ? 'words' : 'tokens'} after each of ${L} layers.`}
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
            .filter((l) => l % tickEvery === 0 || l === lastL)
            .map((l) => (
              <text key={l} x={x(l)} y={height - M.bottom + 14} textAnchor="middle" className="tick">
                {l}
              </text>
            ))}
          <text x={(M.left + width - M.right) / 2} y={height - 4} textAnchor="middle" className="axis-title">
            after layer
          </text>
          {data.lines.map((u, k) => (
            <g key={u.key} opacity={hover === null || hover === k ? 1 : 0.2} onMouseEnter={() => setHover(k)} onMouseLeave={() => setHover(null)}>
              <path
                d={path(data.shares.map((r) => r[k])) ?? ''}
                fill="none"
                stroke={colour(k)}
                strokeWidth={hover === k ? 3 : 1.8}
                strokeDasharray={u.special ? '5 3' : undefined}
              />
              {data.shares.map((r, l) => (
                <circle
                  key={l}
                  cx={x(l)}
                  cy={y(r[k])}
                  r={3}
                  fill={colour(k)}
                  onMouseMove={(e) => {
                    const rc = wrapEl!.getBoundingClientRect();
                    setTip({
                      x: e.clientX - rc.left,
                      y: e.clientY - rc.top,
                      content: (
                        <span className="num">
                          {u.special ? 'special tokens' : <Tok text={u.text} />} (pos {spanLabel(u.positions)}) after layer {l}: {percent(r[k])} · read-out{' '}
                          {signed(data.raw[l][k])}
                        </span>
                      ),
                    });
                  }}
                />
              ))}
            </g>
          ))}
          {/* Legend: dark text beside a swatch of the line's colour (light colours are unreadable as text). */}
          {ends.map(({ k, u, y: ly }) => (
            <g key={u.key} onMouseEnter={() => setHover(k)} onMouseLeave={() => setHover(null)}>
              <line
                x1={width - M.right + 4}
                x2={width - M.right + 14}
                y1={ly}
                y2={ly}
                stroke={colour(k)}
                strokeWidth={3}
                strokeDasharray={u.special ? '3 2' : undefined}
              />
              <text
                x={width - M.right + 18}
                y={ly}
                dominantBaseline="middle"
                className="mono tick legend-label"
                data-source={u.key}
                data-share={data.shares[lastL][k]}
              >
                {`${u.special ? 'special tokens' : `${u.key}:${isolate(fit(tokenLabel(u.text), 54, MONO))}`} ${num(data.shares[lastL][k] * 100, 2)}%`}
              </text>
            </g>
          ))}
        </svg>
        <Tip tip={tip} width={width} />
      </div>
    </Panel>
  );
}
