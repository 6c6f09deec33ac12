// The neuron view for the run's chosen layer: the neurons with the largest |contribution| to the
// focused target, as signed bars, each with the tokens its write promotes through the
// unembedding (asked of the engine once per neuron). Click pins a neuron.

import { scaleBand, scaleLinear } from 'd3';
import { useEffect, useMemo, useRef } from 'react';
import { useApp } from '../state';
import { Empty, Panel, useFocus, useWidth } from './common';
import { clip, num, percent, scoreText, signed, tokenLabel } from './format';
import { MONO, fit } from './layout';

const TOP_N = 12;
const ROW = 20;

export function NeuronView() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const promotes = useApp((s) => s.promotes);
  const fetchPromotes = useApp((s) => s.fetchPromotes);
  const pinned = useApp((s) => s.pinnedNeuron);
  const shared = useApp((s) => s.shared !== null);
  const pinNeuron = useApp((s) => s.pinNeuron);
  const { ref: wrapRef, width } = useWidth<HTMLDivElement>(520);
  const svgRef = useRef<SVGSVGElement>(null);

  const nr = f?.result.neuron;
  const top = useMemo(() => {
    if (!f || !nr) return [];
    return nr.scores[f.i]
      .map((v, j) => [v, j] as const)
      .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
      .slice(0, TOP_N)
      .map(([v, j]) => ({ j, v }));
  }, [f, nr]);
  const layer = nr?.layer ?? 0;
  const ids = top.map((t) => t.j).join(',');
  useEffect(() => {
    if (top.length)
      void fetchPromotes(
        layer,
        top.map((t) => t.j),
      );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layer, ids, fetchPromotes]);

  if (!f || !nr) {
    return (
      <Panel id="neurons" title="MLP neurons">
        <Empty>Run with “neurons” mode (choose the layer) to rank the MLP neurons of that layer.</Empty>
      </Panel>
    );
  }

  const logit = f.target.logit;
  const labelW = 56;
  const barW = Math.min(220, Math.max(120, width * 0.36));
  const valueW = 58;
  const promoX = labelW + barW + valueW + 10;
  const maxV = Math.max(1e-12, ...top.map((t) => Math.abs(t.v)));
  const x = scaleLinear()
    .domain([-maxV, maxV])
    .range([labelW, labelW + barW]);
  const y = scaleBand<number>()
    .domain(top.map((_, k) => k))
    .range([18, 18 + ROW * top.length]);
  const height = 18 + ROW * top.length + 30;
  const sum = nr.scores[f.i].reduce((a, b) => a + b, 0);

  return (
    <Panel
      id="neurons"
      title="MLP neurons"
      csvModes={['neuron']}
      caption={
        <>
          the MLP neurons of layer {layer} whose output moves the target most: top {top.length} of {nr.scores[f.i].length} · all neurons together {signed(sum)}{' '}
          ({Math.abs(logit) > 1e-9 ? percent(sum / logit) : '—'} of the logit)
          {nr.group_size < nr.scores[f.i].length ? ` · computed ${nr.group_size} neurons at a time` : ''} · right: the tokens each neuron’s output raises most
          through the unembedding
        </>
      }
      svgRef={svgRef}
      exportName={`neurons-L${layer}`}
    >
      <div className="chart-wrap" ref={wrapRef}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="group"
          aria-label={`Top ${top.length} neurons of layer ${layer} by contribution, with the tokens each promotes.`}
        >
          <text x={labelW} y={11} className="axis-title">
            score (logit units)
          </text>
          <text x={promoX} y={11} className="axis-title">
            tokens its output raises most
          </text>
          <line x1={x(0)} x2={x(0)} y1={16} y2={height - 28} className="zero" />
          {top.map(({ j, v }, k) => {
            const pro = promotes[`${layer}:${j}`];
            const proText = pro ? fit(pro.map((t) => tokenLabel(vocab[t.id] ?? `#${t.id}`)).join('  '), Math.max(40, width - promoX - 4), MONO) : '…';
            const isPinned = pinned === j;
            const value = scoreText(v, nr.scores[f.i], shared, 3);
            return (
              <g
                key={j}
                className={`neuron-row${isPinned ? ' pinned' : ''}`}
                transform={`translate(0,${y(k)})`}
                role="button"
                tabIndex={0}
                aria-label={`N${j} ${value} ${proText}: ${isPinned ? 'pinned, press to unpin' : 'press to pin'} (score ${value}; then the tokens its output raises)`}
                aria-pressed={isPinned}
                onClick={() => pinNeuron(isPinned ? null : j)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    pinNeuron(isPinned ? null : j);
                  }
                }}
              >
                <rect x={0} y={0} width={width} height={ROW - 2} className="row-bg" />
                <text x={labelW - 6} y={ROW / 2} textAnchor="end" dominantBaseline="middle" className="num tick">
                  {`N${j}`}
                </text>
                <rect x={Math.min(x(0), x(v))} y={4} width={Math.max(1, Math.abs(x(v) - x(0)))} height={ROW - 10} fill={v >= 0 ? '#5e3c99' : '#e66101'} />
                <text x={labelW + barW + 4} y={ROW / 2} dominantBaseline="middle" className="num" aria-hidden="true">
                  {/* A trailing space: the score and the promoted tokens are separate words to assistive technology. */}
                  {`${value} `}
                </text>
                <text x={promoX} y={ROW / 2} dominantBaseline="middle" className="mono tick" aria-hidden="true">
                  {proText}
                </text>
              </g>
            );
          })}
          <text x={0} y={height - 10} className="tick">
            {`purple raises the target, orange lowers it · rest (what the neurons leave) ${signed(nr.rest[f.i])}`}
          </text>
        </svg>
      </div>
      {pinned !== null && promotes[`${layer}:${pinned}`] && (
        <p className="small">
          <b>N{pinned}</b> promotes:{' '}
          {promotes[`${layer}:${pinned}`].map((t) => (
            <span key={t.id} className="chip inline">
              <span className="chip-text">{clip(tokenLabel(vocab[t.id] ?? `#${t.id}`), 40)}</span>
              <span className="chip-id">{num(t.logit, 3)}</span>
            </span>
          ))}
        </p>
      )}
    </Panel>
  );
}

export function ModuleView() {
  const f = useFocus();
  const { ref: wrapRef, width } = useWidth<HTMLDivElement>(400);
  const svgRef = useRef<SVGSVGElement>(null);
  const md = f?.result.module;
  if (!f || !md) {
    return (
      <Panel id="modules" title="Modules">
        <Empty>Run with “modules” mode to split the chosen layer’s output into incoming residual, attention and MLP.</Empty>
      </Panel>
    );
  }
  const s = md.scores[f.i];
  const maxV = Math.max(1e-12, ...s.map(Math.abs));
  const labelW = 80;
  const valueW = 70;
  const x = scaleLinear()
    .domain([Math.min(0, ...s), Math.max(0, ...s, maxV * 0.05)])
    .range([labelW, Math.max(labelW + 60, width - valueW)]);
  const height = s.length * ROW + 24;
  return (
    <Panel
      id="modules"
      title="Modules"
      csvModes={['module']}
      caption={
        <>
          layer {md.layer} · shares of the target logit {num(f.target.logit)}
        </>
      }
      svgRef={svgRef}
      exportName={`modules-L${md.layer}`}
    >
      <div className="chart-wrap" ref={wrapRef}>
        <svg
          ref={svgRef}
          width={width}
          height={height}
          role="img"
          aria-label={`Module contributions at layer ${md.layer}: ${md.names.map((n, k) => `${n} ${num(s[k])}`).join(', ')}`}
        >
          <line x1={x(0)} x2={x(0)} y1={0} y2={s.length * ROW} className="zero" />
          {md.names.map((name, k) => (
            <g key={name} transform={`translate(0,${k * ROW})`}>
              <text x={labelW - 6} y={ROW / 2} textAnchor="end" dominantBaseline="middle" className="tick">
                {name}
              </text>
              <rect x={Math.min(x(0), x(s[k]))} y={4} width={Math.max(1, Math.abs(x(s[k]) - x(0)))} height={ROW - 8} fill={s[k] >= 0 ? '#5e3c99' : '#e66101'} />
              <text x={width - 4} y={ROW / 2} textAnchor="end" dominantBaseline="middle" className="num">
                {`${signed(s[k], 3)} ${Math.abs(f.target.logit) > 1e-9 ? percent(s[k] / f.target.logit) : ''}`}
              </text>
            </g>
          ))}
          <text x={0} y={height - 6} className="tick">
            {`Σ ${num(
              s.reduce((a, b) => a + b, 0),
              6,
            )} vs logit ${num(f.target.logit, 6)}`}
          </text>
        </svg>
      </div>
    </Panel>
  );
}
