// The tile shapes of shaders/matmul.wgsl (all of them override constants) and how a device's tile
// plan picks one for an R x N product. Which shapes a device may use follows from its limits
// (invocations per workgroup, workgroup memory); which large shape it uses was chosen once per
// device by a short calibration (tuning.ts). No GPU calls here.

/** One tile shape: WX x WY invocations, each an RR x RC block of outputs, K slices of TK. */
export interface TileShape {
  wx: number;
  wy: number;
  rr: 4 | 8;
  rc: 4 | 8;
  tk: number;
}

/** Every shape the engine knows; the names are what reports and tests show. */
export const TILES = {
  /** 64 x 64, 256 invocations, K slices of 16: products of moderate size. */
  small: { wx: 16, wy: 16, rr: 4, rc: 4, tk: 16 },
  /** 128 x 128, 256 invocations of 8 x 8: large products (more reuse per load, fewer workgroups). */
  large: { wx: 16, wy: 16, rr: 8, rc: 8, tk: 8 },
  /** 128 x 128 with K slices of 16: half the barriers per K, twice the workgroup memory. */
  deep: { wx: 16, wy: 16, rr: 8, rc: 8, tk: 16 },
  /** 128 x 256, 512 invocations (devices allowing 512 per workgroup). */
  wide: { wx: 32, wy: 16, rr: 8, rc: 8, tk: 8 },
  /** 256 x 256, 1024 invocations (devices allowing 1024 per workgroup). */
  huge: { wx: 32, wy: 32, rr: 8, rc: 8, tk: 8 },
  /** 16 x 256, 64 x 4 invocations: few rows (a short prompt's forward pass). */
  thin: { wx: 64, wy: 4, rr: 4, rc: 4, tk: 8 },
  /** 32 x 256, 64 x 4 invocations of 8 x 4. */
  thin32: { wx: 64, wy: 4, rr: 8, rc: 4, tk: 8 },
} as const satisfies Record<string, TileShape>;

export type TileName = keyof typeof TILES;

/** The shapes that may serve as a device's large tiles (the calibration's candidates). */
export const LARGE_CANDIDATES: readonly TileName[] = ['large', 'deep', 'wide', 'huge'];

export const tileRows = (t: TileName): number => TILES[t].wy * TILES[t].rr;
export const tileCols = (t: TileName): number => TILES[t].wx * TILES[t].rc;

/** matmul.wgsl's overrides for a shape. */
export function tileOverrides(t: TileName): Record<'WX' | 'WY' | 'RR' | 'RC' | 'TK', number> {
  const s = TILES[t];
  return { WX: s.wx, WY: s.wy, RR: s.rr, RC: s.rc, TK: s.tk };
}

/** The device limits a tile shape must respect. */
export interface TileLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupStorageSize: number;
}

/** Bytes of workgroup memory a shape stages per K slice (both operands), for tile elements of `elementBytes`. */
export function tileBytes(t: TileName, elementBytes = 4): number {
  const s = TILES[t];
  return s.tk * (tileRows(t) + tileCols(t)) * elementBytes;
}

/** Whether a device may run a shape (f32 tiles, the larger of the two element sizes). */
export function tileFits(t: TileName, l: TileLimits): boolean {
  const s = TILES[t];
  const loads = (n: number) => Math.ceil((s.tk * n) / 4 / (s.wx * s.wy));
  return (
    s.wx * s.wy <= l.maxComputeInvocationsPerWorkgroup &&
    s.wx <= l.maxComputeWorkgroupSizeX &&
    s.wy <= l.maxComputeWorkgroupSizeY &&
    tileBytes(t) <= l.maxComputeWorkgroupStorageSize &&
    loads(tileRows(t)) <= 4 &&
    loads(tileCols(t)) <= 4
  );
}

/** What a device uses for its matrix products. */
export interface TilePlan {
  /** The shape for products with many outputs. */
  large: TileName;
  /** Products of at least this many outputs (and one large tile each way) use `large`. */
  largeFrom: number;
  /** How `large` was chosen. */
  source: 'limits' | 'calibration';
  /** The calibration's measurements: GFLOP/s of each candidate on one product. */
  calibration?: { R: number; N: number; K: number; gflops: Partial<Record<TileName, number>>; ms: number };
}

/**
 * The plan from limits alone: the 128 x 128 tiles from 64 of them on a GPU (enough to keep its
 * many cores busy), from 4 on a CPU-backed adapter (few cores, more work per cycle from them).
 */
export function plainTilePlan(isFallbackAdapter: boolean): TilePlan {
  return { large: 'large', largeFrom: (isFallbackAdapter ? 4 : 64) * 128 * 128, source: 'limits' };
}

/** Outputs computed, padding included, by shape t for an R x N product. */
function padded(t: TileName, R: number, N: number): number {
  return Math.ceil(R / tileRows(t)) * tileRows(t) * Math.ceil(N / tileCols(t)) * tileCols(t);
}

/**
 * The shape for an R x N product: the plan's large tiles when the product is large enough and they
 * waste at most a quarter of their outputs on padding (else the 128 x 128 ones); otherwise
 * whichever of the 64 x 64, 32 x 256 and 16 x 256 tiles computes the least padding (ties to the
 * one listed first). The thin tiles win for few rows, where 64-row tiles would be mostly empty.
 */
export function tileFor(R: number, N: number, plan: TilePlan): TileName {
  if (R * N >= plan.largeFrom) {
    for (const t of [plan.large, 'large'] as const) {
      if (R >= tileRows(t) && N >= tileCols(t) && padded(t, R, N) <= 1.25 * R * N) return t;
    }
  }
  let best: TileName = 'small';
  for (const t of ['thin32', 'thin'] as const) if (padded(t, R, N) < padded(best, R, N)) best = t;
  return best;
}
