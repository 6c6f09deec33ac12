// Exports: a view's SVG serialized with its computed styles inlined (so it renders the same
// outside the page) and a caption block saying what it shows, a PNG drawn from that SVG on a
// canvas, and the run's JSON, each downloaded through a blob URL. Nothing is uploaded anywhere.

import type { DepassResult } from '../depass/result';
import { fit, textWidth } from './layout';

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

/**
 * Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, U+FFFE,
 * U+FFFF, unpaired surrogates). One of them anywhere makes the whole file unreadable, so every
 * exported SVG passes through xmlSafe, the one place where text leaves the page as XML.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text made valid XML: forbidden controls as their control pictures, the rest as U+FFFD. */
export function xmlSafe(text: string): string {
  return text.replace(XML_FORBIDDEN, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? String.fromCharCode(0x2400 + code) : '\ufffd';
  });
}

const CAPTION_FONT = '11px "DejaVu Sans", system-ui, sans-serif';
const CAPTION_LINE = 15;
/** A long line (a prompt) wraps onto at most this many lines, then ends in an ellipsis. */
const CAPTION_WRAP = 4;

/** Splits a caption line into lines no wider than `width`, breaking at spaces where it can. */
function wrapLine(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0 && out.length < CAPTION_WRAP) {
    if (textWidth(rest, CAPTION_FONT) <= width) {
      out.push(rest);
      rest = '';
      break;
    }
    const head = fit(rest, width, CAPTION_FONT).replace(/…$/, '');
    const cut = head.lastIndexOf(' ') > head.length / 2 ? head.lastIndexOf(' ') + 1 : Math.max(1, head.length);
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0) out[out.length - 1] = fit(out[out.length - 1] + rest, width, CAPTION_FONT);
  return out;
}

/**
 * A standalone copy of an on-page SVG: inlined styles, explicit size, white background, and the
 * caption lines (model, prompt, position, target, rule) in a block under the chart, so the file
 * says what it shows wherever it goes.
 */
export function serializeSvg(svg: SVGSVGElement, title?: string, caption: string[] = []): { text: string; width: number; height: number } {
  const box = svg.getBoundingClientRect();
  const width = Math.ceil(Number(svg.getAttribute('width')) || box.width);
  const chartHeight = Math.ceil(Number(svg.getAttribute('height')) || box.height);
  const lines = caption.flatMap((line) => wrapLine(line, Math.max(80, width - 8)));
  const height = chartHeight + (lines.length > 0 ? 10 + lines.length * CAPTION_LINE : 0);
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
  clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (lines.length > 0) {
    const block = document.createElementNS('http://www.w3.org/2000/svg', 'g');
    block.setAttribute('class', 'export-caption');
    block.setAttribute('style', `font:${CAPTION_FONT};fill:#3a3a40`);
    lines.forEach((line, k) => {
      const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      t.setAttribute('x', '4');
      t.setAttribute('y', String(chartHeight + 6 + CAPTION_LINE * (k + 1) - 4));
      t.textContent = line;
      block.appendChild(t);
    });
    const rule = document.createElementNS('http://www.w3.org/2000/svg', 'line');
    rule.setAttribute('x1', '0');
    rule.setAttribute('x2', String(width));
    rule.setAttribute('y1', String(chartHeight + 4));
    rule.setAttribute('y2', String(chartHeight + 4));
    rule.setAttribute('style', 'stroke:#dcdce0;stroke-width:1');
    block.appendChild(rule);
    clone.appendChild(block);
  }
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
  return { text: xmlSafe('<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone)), width, height };
}

export function downloadSvg(svg: SVGSVGElement, stem: string, title?: string, caption?: string[]): void {
  download(new Blob([serializeSvg(svg, title, caption).text], { type: 'image/svg+xml' }), `${stem}.svg`);
}

/** PNG at 2x via an <img> of the serialized SVG drawn onto a canvas. */
export async function downloadPng(svg: SVGSVGElement, stem: string, title?: string, caption?: string[]): Promise<void> {
  const { text, width, height } = serializeSvg(svg, title, caption);
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
