// The client's promises and watchdog against scripted workers: replies reach the right request,
// errors arrive as EngineErrors, and a worker that stops answering becomes an error, not a stall.

import { describe, expect, it } from 'vitest';
import { EngineClient, EngineError, type WorkerLike } from './client';
import type { Reply, Request } from './protocol';

class FakeWorker implements WorkerLike {
  onmessage: ((ev: MessageEvent<Reply>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  terminated = false;
  readonly sent: Request[] = [];
  constructor(private readonly answer: (req: Request, reply: (r: Reply) => void) => void) {}
  postMessage(message: Request): void {
    this.sent.push(message);
    this.answer(message, (r) => setTimeout(() => this.onmessage?.({ data: r } as MessageEvent<Reply>), 0));
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('engine client', () => {
  it('routes replies and errors to their requests', async () => {
    const w = new FakeWorker((req, reply) => {
      if (req.type === 'vocab') reply({ type: 'vocab', id: req.id, texts: ['a', 'red'], special: [] });
      if (req.type === 'tokenize') reply({ type: 'error', id: req.id, kind: 'input', message: 'no model is loaded' });
    });
    const client = new EngineClient(w, null, 1000);
    const [a, b] = [client.vocab(), client.tokenize('x')];
    expect(await a).toEqual({ texts: ['a', 'red'], special: [] });
    await expect(b).rejects.toMatchObject({ kind: 'input', message: 'no model is loaded' });
  });

  it('turns a silent worker into an error and starts a fresh one', async () => {
    const silent = new FakeWorker(() => {});
    const fresh = new FakeWorker((req, reply) => {
      if (req.type === 'vocab') reply({ type: 'vocab', id: req.id, texts: [], special: [] });
    });
    const client = new EngineClient(silent, () => fresh, 200);
    const t0 = Date.now();
    const err = await client.vocab().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).kind).toBe('unresponsive');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(silent.terminated).toBe(true);
    expect(silent.sent.some((r) => r.type === 'ping')).toBe(true);
    expect(await client.vocab()).toEqual({ texts: [], special: [] });
  });

  it('keeps a slow but alive worker (pongs count as life)', async () => {
    const w = new FakeWorker((req, reply) => {
      if (req.type === 'ping') reply({ type: 'pong', id: 0 });
      if (req.type === 'vocab') setTimeout(() => reply({ type: 'vocab', id: req.id, texts: [], special: [] }), 700);
    });
    const client = new EngineClient(w, null, 300);
    expect(await client.vocab()).toEqual({ texts: [], special: [] });
  });
});
