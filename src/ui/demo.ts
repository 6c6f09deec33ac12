// The bundled demo models and example prompts, fetched from the app's own origin. Their absence
// is normal (a build without them): every function here answers null rather than throwing.

import type { ModelFile } from '../model/files';

export interface DemoModel {
  key: string;
  label: string;
  folder: string;
}

export const DEMOS: DemoModel[] = [
  { key: 'demo-llama', label: 'Llama demo', folder: 'models/demo-llama/' },
  { key: 'demo-gpt2', label: 'GPT-2 demo', folder: 'models/demo-gpt2/' },
];

const OPTIONAL = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'vocab.json', 'merges.txt'];

const base = () => (import.meta.env?.BASE_URL ?? '/').replace(/\/?$/, '/');

/** A file of the origin, or null when absent (a dev server answers unknown paths with the page). */
async function fetchFile(url: string): Promise<Blob | null> {
  try {
    const r = await fetch(url, { cache: 'no-cache' });
    if (!r.ok || (r.headers.get('content-type') ?? '').includes('text/html')) return null;
    return await r.blob();
  } catch {
    return null;
  }
}

/**
 * Whether the demo is bundled: its config.json, fetched whole (a few hundred bytes). A HEAD
 * request would do, but browsers report the bodiless answer as an aborted request.
 */
export async function demoAvailable(demo: DemoModel): Promise<boolean> {
  return (await fetchFile(base() + demo.folder + 'config.json')) !== null;
}

/**
 * The demo's files as ModelFile objects, or a reason when they are not there. Paths start with
 * the demo's folder name, as a dropped folder's would, so the model card names the demo.
 */
export async function fetchDemo(demo: DemoModel): Promise<{ files: ModelFile[] } | { missing: string }> {
  const root = base() + demo.folder;
  const files: ModelFile[] = [];
  const config = await fetchFile(root + 'config.json');
  if (!config) return { missing: `${demo.folder}config.json is not bundled with this build` };
  files.push({ path: `${demo.key}/config.json`, blob: config });
  for (const name of OPTIONAL) {
    const b = await fetchFile(root + name);
    if (b) files.push({ path: `${demo.key}/${name}`, blob: b });
  }
  const single = await fetchFile(root + 'model.safetensors');
  if (single) {
    files.push({ path: `${demo.key}/model.safetensors`, blob: single });
  } else {
    const index = await fetchFile(root + 'model.safetensors.index.json');
    if (!index) return { missing: `${demo.folder} has no model.safetensors` };
    files.push({ path: `${demo.key}/model.safetensors.index.json`, blob: index });
    let shards: string[] = [];
    try {
      const map = (JSON.parse(await index.text()) as { weight_map?: Record<string, string> }).weight_map ?? {};
      shards = [...new Set(Object.values(map))];
    } catch {
      // A broken index is the loader's to report, with its file name.
    }
    for (const shard of shards) {
      const b = await fetchFile(root + shard);
      if (b) files.push({ path: `${demo.key}/${shard}`, blob: b });
    }
  }
  return { files };
}

export interface Probe {
  id: string;
  kind: string;
  prompt: string;
  answer?: string;
  distractors?: string[];
  example?: boolean;
}

/** Example prompts from models/probes.json (those marked example first), or [] when absent. */
export async function fetchProbes(): Promise<Probe[]> {
  const b = await fetchFile(base() + 'models/probes.json');
  if (!b) return [];
  try {
    const j = JSON.parse(await b.text()) as { probes?: Probe[] };
    const all = (j.probes ?? []).filter((p) => typeof p.prompt === 'string' && p.prompt.length > 0);
    const ex = all.filter((p) => p.example);
    return (ex.length ? ex : all.slice(0, 8)).sort((a, b) => a.prompt.length - b.prompt.length);
  } catch {
    return [];
  }
}
