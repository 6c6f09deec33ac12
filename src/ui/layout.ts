// Layout arithmetic for the views that d3 has no layout for: wrapping prompt tokens into lines
// of chips, and text measurement. Pure apart from measureText, which falls back to an estimate
// when no canvas exists (tests, workers).

export const MONO = '12px "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace';

let ctx: CanvasRenderingContext2D | null | undefined;
const cache = new Map<string, number>();

/** Width of text in pixels in the given CSS font. */
export function textWidth(text: string, font = MONO): number {
  const key = font + '\u0000' + text;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  if (ctx === undefined) ctx = typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
  let w: number;
  if (ctx) {
    ctx.font = font;
    w = ctx.measureText(text).width;
  } else {
    const px = Number(/(\d+(?:\.\d+)?)px/.exec(font)?.[1] ?? 12);
    w = text.length * px * 0.6;
  }
  if (cache.size > 5000) cache.clear();
  cache.set(key, w);
  return w;
}

export interface ChipBox {
  index: number;
  x: number;
  y: number;
  width: number;
  line: number;
}

/**
 * Places chips of the given widths left to right, wrapping at maxWidth; a chip wider than a
 * line gets a line of its own. Returns each chip's box and the total height.
 */
export function wrapChips(widths: number[], maxWidth: number, opts: { gap: number; lineHeight: number; padX: number }): { boxes: ChipBox[]; height: number } {
  const boxes: ChipBox[] = [];
  let x = 0;
  let line = 0;
  widths.forEach((w0, index) => {
    const width = w0 + 2 * opts.padX;
    if (x > 0 && x + width > maxWidth) {
      x = 0;
      line++;
    }
    boxes.push({ index, x, y: line * opts.lineHeight, width, line });
    x += width + opts.gap;
  });
  return { boxes, height: widths.length === 0 ? 0 : (line + 1) * opts.lineHeight };
}

/** Shortens text to fit a width, with an ellipsis. */
export function fit(text: string, maxWidth: number, font = MONO): string {
  if (textWidth(text, font) <= maxWidth) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (textWidth(text.slice(0, mid) + '…', font) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '…' : text.slice(0, lo) + '…';
}
