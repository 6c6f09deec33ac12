// Memory planning without a GPU: sizes derived by hand for a known model, refusals with advice,
// and maxComponents against the binding limit and the budget.

import { describe, expect, it } from 'vitest';
import { randomDescription } from '../model/testing/random-model';
import { componentCount } from '../depass/plan';
import { checkMemory, estimateMemory, GpuMemoryError, maxComponentsFor, neuronTile } from './memory';

// D 64, H 8, Hkv 4, dh 8, I 172, L 5, V 512: stories260K's shape.
const cfg = randomDescription({
  family: 'llama',
  hidden_size: 64,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  intermediate_size: 172,
  num_hidden_layers: 5,
  vocab_size: 512,
});
const MiB = 1024 * 1024;

describe('GPU memory planning', () => {
  it('counts components per mode', () => {
    expect(componentCount(cfg, 10, { kind: 'token' })).toBe(11);
    expect(componentCount(cfg, 10, { kind: 'head', layer: 0 })).toBe(9);
    expect(componentCount(cfg, 10, { kind: 'neuron', layer: 0, from: 5, to: 25 })).toBe(21);
    expect(componentCount(cfg, 10, { kind: 'module', layer: 0 })).toBe(3);
    expect(componentCount(cfg, 10, { kind: 'subspace', layer: 0, direction: new Float32Array(64) })).toBe(2);
  });

  it('sizes the forward records by hand', () => {
    const T = 100;
    const e = estimateMemory(cfg, T, null, { maxStorageBufferBindingSize: 128 * MiB });
    const A = 8 * T * T * 4; // [H, T, T] f32 per layer
    const act = T * 172 * 4;
    const find = (s: string) => e.buffers.find((b) => b.what.startsWith(s))!;
    expect(find('attention probabilities')).toMatchObject({ bytes: A, count: 5 });
    expect(find('activations')).toMatchObject({ bytes: act, count: 5 });
    for (const r of ['residual h_in', 'residual h_mid', 'attention output', 'MLP output']) expect(find(r)).toMatchObject({ bytes: T * 64 * 4, count: 5 });
    expect(e.forward).toBeGreaterThan(5 * (A + act));
    expect(e.decomposed).toBe(0);
  });

  it('token mode holds T + 1 components; the neuron tile shrinks to fit one binding', () => {
    const T = 64;
    const e = estimateMemory(cfg, T, { kind: 'token' }, { maxStorageBufferBindingSize: 128 * MiB });
    expect(e.M).toBe(65);
    expect(e.neuronTile).toBe(172); // the whole layer fits
    // C and its normalised copy: 2 * M * T * D * 4 bytes.
    expect(e.buffers.filter((b) => b.what.includes('[M=65, T=64, D]')).reduce((s, b) => s + b.bytes, 0)).toBe(2 * 65 * 64 * 64 * 4);
    // With a 1 MiB binding, M * T * J * 4 <= 1 MiB: J = floor(1048576 / (65 * 64 * 4)) = 63, rounded to 60.
    expect(neuronTile(cfg, T, 65, 1 * MiB)).toBe(60);
  });

  it('refuses with what to reduce', () => {
    const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB, budget: 64 * MiB };
    const token = estimateMemory(cfg, 400, { kind: 'token' }, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize });
    expect(() => checkMemory(token, limits, { kind: 'token' })).toThrow(GpuMemoryError);
    expect(() => checkMemory(token, limits, { kind: 'token' })).toThrow(/fewer tokens/);
    // One A buffer beyond the binding limit: 8 * 2100^2 * 4 = 141 MB > 128 MiB.
    const long = estimateMemory(cfg, 2100, null, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize });
    expect(() => checkMemory(long, { ...limits, budget: 1e12 }, null)).toThrow(/attention probabilities.*fewer tokens/);
    const neurons = { kind: 'neuron' as const, layer: 0, from: 0, to: 172 };
    const n = estimateMemory(cfg, 300, neurons, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize });
    expect(() => checkMemory(n, { ...limits, budget: n.forward + 1000 }, neurons)).toThrow(/smaller neuron group/);
    const small = estimateMemory(cfg, 8, { kind: 'token' }, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize });
    expect(() => checkMemory(small, limits, { kind: 'token' })).not.toThrow();
  });

  it('maxComponents fits both the binding limit and the budget', () => {
    const T = 50;
    const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 128 * MiB, budget: 32 * MiB };
    const M = maxComponentsFor(cfg, T, limits);
    expect(M).toBeGreaterThan(2);
    const req = { kind: 'neuron' as const, layer: 0, from: 0, to: M - 1 };
    const e = estimateMemory(cfg, T, req, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, budget: limits.budget });
    expect(() => checkMemory(e, limits, req)).not.toThrow();
    expect(e.neuronTile).toBeGreaterThanOrEqual(64); // the tile shrank to fit the budget, not below 64
    const bigger = { kind: 'neuron' as const, layer: 0, from: 0, to: Math.ceil(M * 1.2) };
    const e2 = estimateMemory(cfg, T, bigger, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, budget: limits.budget });
    expect(() => checkMemory(e2, limits, bigger)).toThrow(GpuMemoryError);
    // A tiny binding limit caps M by C's size alone: M * T * D * 4 <= 64 KiB gives M <= 5.
    expect(maxComponentsFor(cfg, T, { ...limits, maxStorageBufferBindingSize: 64 * 1024 })).toBe(5);
  });
});
