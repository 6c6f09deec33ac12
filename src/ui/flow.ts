// The flow graph's layout: source tokens on the left, the strongest heads (and modules) of each
// layer in columns, the prediction on the right; edges weighted by contribution. d3 draws the
// link paths; this file decides which nodes and edges exist and where they sit. Pure.

import { linkHorizontal } from 'd3';
import type { Focus } from '../state/types';

export interface FlowNode {
  id: string;
  kind: 'token' | 'head' | 'module' | 'target';
  label: string;
  /** Column: 0 sources, 1..L layers, L+1 the target. */
  column: number;
  x: number;
  y: number;
  /** Signed contribution of the node to the target (DePass score), null when unknown. */
  score: number | null;
  /** Layer and head for head nodes; for sources the last position and every position they cover. */
  layer?: number;
  head?: number;
  position?: number;
  positions?: number[];
  /** The hidden special tokens' total, drawn whatever its rank. */
  rest?: boolean;
}

/** A source as the flow graph draws it: a token, a word (its tokens' scores summed), or a total. */
export interface FlowSource {
  /** Unique among the sources; the node's id is "t" + key. */
  key: string;
  positions: number[];
  label: string;
  score: number | null;
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  /** Signed weight in logit units. */
  weight: number;
  /** 'exact': a DePass score; 'attention': attention weight × head score (an approximation). */
  basis: 'exact' | 'attention';
  path: string;
}

export interface FlowOptions {
  width: number;
  height: number;
  /** Heads kept per layer. */
  headsPerLayer: number;
  /** Source tokens kept (the strongest, shown in prompt order). */
  maxSources: number;
  /** Edges below this fraction of the strongest are dropped, with nodes left unconnected. */
  threshold: number;
  /** Attention row of head (layer, head) at the focus position, when fetched. */
  attentionRow(layer: number, head: number): ArrayLike<number> | null;
  tokenLabel(position: number): string;
  targetLabel: string;
  /** Sources to rank and draw instead of the focus's tokens (words, or tokens with special ones left out). */
  sources?: FlowSource[];
  /** Drawn below the kept sources whatever its rank: the hidden special tokens as one total. */
  rest?: FlowSource | null;
}

export interface FlowLayout {
  nodes: FlowNode[];
  edges: FlowEdge[];
  columns: { x: number; label: string }[];
  maxWeight: number;
  /** Heads whose attention rows the layout would use (for fetching). */
  wantedHeads: { layer: number; head: number }[];
}

const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();

function spread(n: number, top: number, bottom: number): number[] {
  if (n === 0) return [];
  if (n === 1) return [(top + bottom) / 2];
  const step = (bottom - top) / (n - 1);
  return Array.from({ length: n }, (_, k) => top + k * step);
}

export function layoutFlow(f: Focus, L: number, o: FlowOptions): FlowLayout {
  // Left: room for a source label (position, token, score); right: for the target's.
  const pad = { left: 150, right: 130, top: 28, bottom: 16 };
  const innerW = Math.max(100, o.width - pad.left - pad.right);
  const colX = (c: number) => pad.left + (innerW * c) / (L + 1);
  const columns = [
    { x: colX(0), label: 'tokens' },
    ...Array.from({ length: L }, (_, l) => ({ x: colX(l + 1), label: `L${l}` })),
    { x: colX(L + 1), label: 'target' },
  ];
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  const wantedHeads: { layer: number; head: number }[] = [];

  // Sources: the strongest tokens (or words) up to the focus position, shown in prompt order.
  const tok = f.result.token?.scores[f.i] ?? null;
  const all: FlowSource[] =
    o.sources ?? Array.from({ length: f.position + 1 }, (_, s) => ({ key: String(s), positions: [s], label: o.tokenLabel(s), score: tok ? tok[s] : null }));
  const candidates = all.filter((u) => u.positions[0]! <= f.position);
  const first = (u: FlowSource) => u.positions[0]!;
  const kept = tok
    ? candidates
        .slice()
        .sort((a, b) => Math.abs(b.score ?? 0) - Math.abs(a.score ?? 0))
        .slice(0, o.maxSources)
        .sort((a, b) => first(a) - first(b))
    : candidates.slice(Math.max(0, candidates.length - o.maxSources));
  const drawn = o.rest ? [...kept, o.rest] : kept;
  const ys = spread(drawn.length, pad.top, o.height - pad.bottom);
  drawn.forEach((u, k) =>
    nodes.push({
      id: `t${u.key}`,
      kind: 'token',
      label: u.label,
      column: 0,
      x: colX(0),
      y: ys[k],
      score: u.score,
      position: u.positions[u.positions.length - 1],
      positions: u.positions,
      ...(u === o.rest ? { rest: true } : {}),
    }),
  );
  const target: FlowNode = {
    id: 'target',
    kind: 'target',
    label: o.targetLabel,
    column: L + 1,
    x: colX(L + 1),
    y: (pad.top + o.height - pad.bottom) / 2,
    score: f.target.logit,
  };

  // Heads: per layer the strongest by |score|; modules join their layer's column.
  const hd = f.result.head;
  const md = f.result.module;
  for (let l = 0; l < L; l++) {
    const col: FlowNode[] = [];
    const n = hd ? hd.layers.indexOf(l) : -1;
    if (hd && n >= 0) {
      const row = hd.scores[f.i][n];
      row
        .map((v, h) => [v, h] as const)
        .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
        .slice(0, o.headsPerLayer)
        .sort((a, b) => a[1] - b[1])
        .forEach(([v, h]) => col.push({ id: `h${l}.${h}`, kind: 'head', label: `H${h}`, column: l + 1, x: colX(l + 1), y: 0, score: v, layer: l, head: h }));
    }
    if (md && md.layer === l) {
      md.names.forEach((name, k) => {
        if (name === 'residual') return; // the incoming stream is the sources' own path
        col.push({
          id: `m${l}.${name}`,
          kind: 'module',
          label: name === 'attention' ? 'attn' : name,
          column: l + 1,
          x: colX(l + 1),
          y: 0,
          score: md.scores[f.i][k],
          layer: l,
        });
      });
    }
    // Columns are offset a little from each other so that an edge running right from one layer
    // does not pass through the nodes of the next ones, which would read as a chain.
    const inset = 8 + Math.min(40, (o.height - pad.top - pad.bottom) / 12);
    const ys = spread(col.length, pad.top + inset, o.height - pad.bottom - inset);
    const step = col.length > 1 ? ys[1] - ys[0] : o.height / 2;
    const shift = ((l + 0.5) / L - 0.5) * Math.min(step * 0.5, 2 * inset);
    ys.forEach((y, k) => (col[k].y = y + shift));
    nodes.push(...col);
  }
  nodes.push(target);

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const add = (a: string, b: string, weight: number, basis: FlowEdge['basis']) => {
    const s = byId.get(a)!;
    const t = byId.get(b)!;
    edges.push({ id: `${a}>${b}`, source: a, target: b, weight, basis, path: link({ source: [s.x + 6, s.y], target: [t.x - 6, t.y] }) ?? '' });
  };

  const heads = nodes.filter((n) => n.kind === 'head');
  const mods = nodes.filter((n) => n.kind === 'module');
  for (const h of heads) {
    add(h.id, 'target', h.score ?? 0, 'exact');
    wantedHeads.push({ layer: h.layer!, head: h.head! });
    const row = o.attentionRow(h.layer!, h.head!);
    if (!row) continue;
    for (const u of drawn) {
      // A word's attention is the sum over its tokens' keys.
      let a = 0;
      for (const s of u.positions) a += row[s] ?? 0;
      const w = a * (h.score ?? 0);
      if (w !== 0) add(`t${u.key}`, h.id, w, 'attention');
    }
  }
  for (const m of mods) add(m.id, 'target', m.score ?? 0, 'exact');
  // Without heads, tokens connect straight to the target with their own scores.
  if (heads.length === 0 && tok) for (const u of drawn) add(`t${u.key}`, 'target', u.score ?? 0, 'exact');

  const maxWeight = edges.reduce((m, e) => Math.max(m, Math.abs(e.weight)), 0);
  const shown = edges.filter((e) => maxWeight > 0 && Math.abs(e.weight) >= o.threshold * maxWeight);
  return { nodes, edges: shown, columns, maxWeight, wantedHeads };
}
