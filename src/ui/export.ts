// Exports: a view's SVG serialized with its computed styles inlined (so it renders the same
// outside the page), a PNG drawn from that SVG on a canvas, and the run's JSON, each downloaded
// through a blob URL. Nothing is uploaded anywhere.

import type { DepassResult } from '../depass/result';

/** Style properties that decide how SVG content looks; copied from the page onto each element. */
const STYLE_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'font-variant-numeric',
  'text-anchor',
  'dominant-baseline',
  'alignment-baseline',
  'letter-spacing',
  'visibility',
  'image-rendering',
  'display',
];

/** A file-name-safe slug: letters, digits and dashes, at most `max` characters. */
export function slug(text: string, max = 40): string {
  const s = text
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/[\s_]+/g, '-')
    .replace(/-+/g, '-')
    .toLowerCase()
    .slice(0, max)
    .replace(/-$/, '');
  return s || 'untitled';
}

/** "depass-<model>-<prompt>" (+ "-<view>"), the stem of every exported file. */
export function exportStem(model: string, prompt: string, view?: string): string {
  return ['depass', slug(model, 32), slug(prompt, 40), view ? slug(view, 24) : null].filter(Boolean).join('_');
}

export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has started once click() returns; the URL can go a moment later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The result exactly as the engine returned it (depass-result/1), pretty-printed. */
export function resultBlob(result: DepassResult): Blob {
  return new Blob([JSON.stringify(result, null, 1) + '\n'], { type: 'application/json' });
}

/** A standalone copy of an on-page SVG: inlined styles, explicit size, white background. */
export function serializeSvg(svg: SVGSVGElement, title?: string): { text: string; width: number; height: number } {
  const box = svg.getBoundingClientRect();
  const width = Math.ceil(Number(svg.getAttribute('width')) || box.width);
  const height = Math.ceil(Number(svg.getAttribute('height')) || box.height);
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const dst = [clone, ...Array.from(clone.querySelectorAll('*'))];
  src.forEach((el, n) => {
    const cs = getComputedStyle(el);
    const decl = STYLE_PROPS.map((p) => {
      const v = cs.getPropertyValue(p);
      return v ? `${p}:${v}` : '';
    })
      .filter(Boolean)
      .join(';');
    (dst[n] as SVGElement).setAttribute('style', decl);
    (dst[n] as SVGElement).removeAttribute('class');
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  if (!clone.getAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#ffffff');
  clone.insertBefore(bg, clone.firstChild);
  if (title) {
    const t = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    t.textContent = title;
    clone.insertBefore(t, clone.firstChild);
  }
  return { text: '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone), width, height };
}

export function downloadSvg(svg: SVGSVGElement, stem: string, title?: string): void {
  download(new Blob([serializeSvg(svg, title).text], { type: 'image/svg+xml' }), `${stem}.svg`);
}

/** PNG at 2x via an <img> of the serialized SVG drawn onto a canvas. */
export async function downloadPng(svg: SVGSVGElement, stem: string, title?: string): Promise<void> {
  const { text, width, height } = serializeSvg(svg, title);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'sync';
    await new Promise<void>((ok, fail) => {
      img.onload = () => ok();
      img.onerror = () => fail(new Error('the SVG could not be rendered to an image'));
      img.src = url;
    });
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = width * scale;
    canvas.height = height * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    const png = await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('PNG encoding failed'))), 'image/png'));
    download(png, `${stem}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
