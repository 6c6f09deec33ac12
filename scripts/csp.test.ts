// The page's Content-Security-Policy: its own origin, plus the Hugging Face Hub and its CDN hosts
// for fetches only; nothing else anywhere, and no wildcard wider than the Hub's own domains.

import { describe, expect, it } from 'vitest';
import { csp, HUB_HOSTS } from '../vite.config';

const directives = (policy: string) => new Map(policy.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)] as const));

describe('the production policy', () => {
  const p = directives(csp(false, HUB_HOSTS));

  it('lets fetches reach the page origin and the Hub hosts, nothing else', () => {
    expect(p.get('connect-src')).toEqual(["'self'", 'https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co']);
  });

  it('names the Hub in connect-src only', () => {
    for (const [name, values] of p) if (name !== 'connect-src') expect(values.join(' '), name).not.toMatch(/huggingface|hf\.co|https?:/);
    expect(p.get('default-src')).toEqual(["'self'"]);
    expect(p.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
  });

  it('adds only the hot-reload websocket in development', () => {
    expect(directives(csp(true, HUB_HOSTS)).get('connect-src')).toEqual([...p.get('connect-src')!, 'ws://localhost:*', 'ws://127.0.0.1:*']);
  });
});
