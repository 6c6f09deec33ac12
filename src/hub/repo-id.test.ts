// What the Hub field accepts: ids, ids with a revision, model page addresses of every kind; and
// the one-line refusals for everything else (datasets, Spaces, other hosts, malformed names).

import { describe, expect, it } from 'vitest';
import { HubError } from './errors';
import { isRepoId, parseRepoRef, refLabel } from './repo-id';

const HUB = 'https://huggingface.co';

describe('parseRepoRef', () => {
  it.each([
    ['HuggingFaceTB/SmolLM2-135M', 'HuggingFaceTB/SmolLM2-135M', null],
    ['  EleutherAI/pythia-160m  ', 'EleutherAI/pythia-160m', null],
    ['Qwen/Qwen2.5-0.5B@main', 'Qwen/Qwen2.5-0.5B', 'main'],
    ['gpt2', 'gpt2', null],
    ['EleutherAI/pythia-160m@refs/pr/1', 'EleutherAI/pythia-160m', 'refs/pr/1'],
    ['Qwen/Qwen2.5-0.5B@060db6499f32faf8b98477b0a26969ef7d8b9987', 'Qwen/Qwen2.5-0.5B', '060db6499f32faf8b98477b0a26969ef7d8b9987'],
    ['https://huggingface.co/HuggingFaceTB/SmolLM2-135M', 'HuggingFaceTB/SmolLM2-135M', null],
    ['https://huggingface.co/HuggingFaceTB/SmolLM2-135M/', 'HuggingFaceTB/SmolLM2-135M', null],
    ['huggingface.co/EleutherAI/pythia-160m', 'EleutherAI/pythia-160m', null],
    ['https://hf.co/EleutherAI/pythia-160m', 'EleutherAI/pythia-160m', null],
    ['https://huggingface.co/EleutherAI/pythia-160m/tree/step1000', 'EleutherAI/pythia-160m', 'step1000'],
    ['https://huggingface.co/Qwen/Qwen2.5-0.5B/blob/main/config.json', 'Qwen/Qwen2.5-0.5B', 'main'],
    ['https://huggingface.co/Qwen/Qwen2.5-0.5B/resolve/abc123/model.safetensors', 'Qwen/Qwen2.5-0.5B', 'abc123'],
    ['https://huggingface.co/gpt2?library=transformers#model-card', 'gpt2', null],
  ])('%s', (input, id, revision) => {
    expect(parseRepoRef(input, HUB)).toEqual({ id, revision });
  });

  it('reads addresses of the configured Hub too', () => {
    expect(parseRepoRef('http://127.0.0.1:4731/depass/demo-llama', 'http://127.0.0.1:4731')).toEqual({ id: 'depass/demo-llama', revision: null });
  });

  it.each([
    ['', /type a model id/],
    ['owner/name/extra', /not a model id/],
    ['owner//name', /not a model id/],
    ['-owner/name', /not a model id/],
    ['owner/na--me', /not a model id/],
    ['owner/name..x', /not a model id/],
    ['owner/<script>', /not a model id/],
    ['owner/name@', /not a revision/],
    ['owner/name@../../etc', /not a revision/],
    ['https://huggingface.co/datasets/squad', /dataset, not a model/],
    ['https://huggingface.co/spaces/owner/app', /Space, not a model/],
    ['https://example.com/owner/name', /example\.com is not the Hugging Face Hub/],
    ['x'.repeat(600), /too long/],
  ])('refuses %j', (input, message) => {
    let err: unknown;
    try {
      parseRepoRef(input, HUB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).kind).toBe('input');
    expect((err as HubError).message).toMatch(message);
    expect((err as HubError).message).not.toContain('\n');
  });

  it('checks ids and labels revisions', () => {
    expect(isRepoId('a/b')).toBe(true);
    expect(isRepoId('a/b/c')).toBe(false);
    expect(refLabel('a/b', null)).toBe('a/b');
    expect(refLabel('a/b', 'v1.0')).toBe('a/b@v1.0');
    expect(refLabel('a/b', 'c'.repeat(40))).toBe('a/b@ccccccc');
  });
});
