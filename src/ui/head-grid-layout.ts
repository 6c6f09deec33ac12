// Geometry of the head grid view: the layer x head heatmap on the left and, for a pinned head,
// its T x T attention pattern with a per-position strip on the right. Pure, so the arithmetic is
// tested apart from React.

/** Space for layer labels left of the grid, and for the title and head numbers above it. */
export const GRID_LABEL_W = 50;
export const GRID_TOP = 30;
const CELL_MIN = 12;
const CELL_MAX = 40;
/** The grid alone may take this much width; beside a pattern, at most 45% of the panel or 420 px. */
const GRID_MAX_ALONE = 560;
const GRID_MAX_BESIDE = 420;
/** Between the grid and the pattern, the query-token labels, the contribution strip. */
const PATTERN_GAP = 70;
const PATTERN_LABEL_W = 74;
const STRIP_W = 16;
/** Pattern cells stay between 3 and 22 px, and the whole pattern within 320 px. */
const PATTERN_CELL_MIN = 3;
const PATTERN_CELL_MAX = 22;
const PATTERN_MAX = 320;
/** Token labels are drawn only when pattern cells are at least this tall. */
const LABELLED_CELL = 9;

export interface HeadGridLayout {
  /** Heatmap cell size and the grid's outer size. */
  cell: number;
  gridW: number;
  gridH: number;
  /** The pattern block (when a head is pinned): its label column x, cell size, top-left corner. */
  pattern: { x0: number; labelW: number; strip: number; cell: number; left: number; top: number; labels: boolean };
  height: number;
}

export function headGridLayout(width: number, H: number, layers: number, T: number, withPattern: boolean): HeadGridLayout {
  const gridMax = withPattern ? Math.min(width * 0.45, GRID_MAX_BESIDE) : Math.min(width, GRID_MAX_ALONE);
  const cell = Math.max(CELL_MIN, Math.min(CELL_MAX, Math.floor((gridMax - GRID_LABEL_W) / Math.max(1, H))));
  const gridW = GRID_LABEL_W + cell * H;
  const gridH = GRID_TOP + cell * layers;
  const x0 = gridW + PATTERN_GAP;
  const avail = Math.max(60, width - x0 - PATTERN_LABEL_W - STRIP_W - 12);
  const pc = Math.max(PATTERN_CELL_MIN, Math.min(PATTERN_CELL_MAX, Math.floor(avail / Math.max(1, T)), Math.floor(PATTERN_MAX / Math.max(1, T))));
  const top = GRID_TOP + 40;
  const height = Math.max(gridH + 36, withPattern ? top + T * pc + 40 : 0);
  return {
    cell,
    gridW,
    gridH,
    pattern: { x0, labelW: PATTERN_LABEL_W, strip: STRIP_W, cell: pc, left: x0 + PATTERN_LABEL_W, top, labels: pc >= LABELLED_CELL },
    height,
  };
}
