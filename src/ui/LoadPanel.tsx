// Loading a model: drop zone (folders, several files, a llama2.c .bin + tokenizer.bin), file and
// folder pickers for keyboard users and tests, the bundled demos, the file list with the
// engine's one-line error beside the file it names, and the model card.

import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import { baseName, type ModelFile } from '../model/files';
import { useApp } from '../state';
import type { FileRow } from '../state/types';
import { DEMOS, demoAvailable, fetchDemo, fetchProbes, type Probe } from './demo';
import { HubField } from './HubLoad';
import { RememberToggle } from './RememberedModels';
import { describeFiles, filesFromDrop, filesFromList } from './files';
import { bytes, count, plainText } from './format';

/** Does an error's file name refer to this row? Errors may name a path or a bare file name. */
function names(row: FileRow, file: string | undefined): boolean {
  if (!file) return false;
  return row.path === file || baseName(row.path) === baseName(file);
}

function FileList({ files, error }: { files: FileRow[]; error?: { message: string; file?: string } }) {
  const matched = error?.file ? files.some((f) => names(f, error.file)) : false;
  return (
    <>
      {error && !matched && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      <ul className="files" aria-label="Files of the last load">
        {files.map((f) => {
          const bad = error && names(f, error.file);
          return (
            <li key={f.path} className={bad ? 'bad' : undefined}>
              <span className="path">{f.path}</span>
              <span className="num">{bytes(f.size)}</span>
              {bad && (
                <span className="file-error" role="alert">
                  {error!.message}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

export function ModelCard() {
  const model = useApp((s) => s.model);
  const promptMemory = useApp((s) => s.promptMemory);
  const tokens = useApp((s) => s.tokens.length);
  if (!model) return null;
  const d = model.description;
  const fallback = model.backend === 'cpu' || model.adapter?.isFallbackAdapter;
  return (
    <div className="model-card" role="group" aria-label="Loaded model">
      <div className="model-name" title={`${plainText(model.name)}\n${model.fingerprint}`} data-fingerprint={model.fingerprint}>
        {plainText(model.name)}
      </div>
      <dl>
        <dt>family</dt>
        <dd>{d.family}</dd>
        <dt>parameters</dt>
        <dd className="num">{count(model.parameters)}</dd>
        <dt>dtype</dt>
        <dd>{d.dtype}</dd>
        <dt>layers</dt>
        <dd className="num">{d.num_hidden_layers}</dd>
        <dt>vocab</dt>
        <dd className="num">{d.vocab_size}</dd>
        <dt>heads</dt>
        <dd className="num">
          {d.num_attention_heads} <span className="muted">× {d.head_dim}</span>
        </dd>
        <dt>KV heads</dt>
        <dd className="num">{d.num_key_value_heads}</dd>
        <dt>hidden</dt>
        <dd className="num">{d.hidden_size}</dd>
        <dt>MLP</dt>
        <dd className="num">{d.intermediate_size}</dd>
        <dt>weights</dt>
        <dd className="num">{bytes(model.weightBytes)}</dd>
        <dt>est. GPU mem</dt>
        <dd className="num" title="weights plus the working buffers of a 64-token token-mode run">
          {bytes(model.estimatedGpuBytes)}
        </dd>
        {promptMemory && tokens > 0 && (
          <>
            <dt>this prompt</dt>
            <dd className="num" title={`weights plus the working buffers of a token-mode run of this prompt's ${tokens} tokens`}>
              {bytes(promptMemory.bytes)}
            </dd>
          </>
        )}
        <dt>format</dt>
        <dd className="full" title={model.format}>
          {model.format}
        </dd>
        <dt>backend</dt>
        <dd className="full" title={model.adapter ? `${model.adapter.vendor} ${model.adapter.architecture} ${model.adapter.description}` : model.backendNote}>
          {model.backend === 'webgpu' ? `WebGPU · ${model.adapter?.description || model.adapter?.vendor || 'adapter'}` : 'CPU reference'}
        </dd>
      </dl>
      {promptMemory?.refusal && (
        <p className="warning" role="status">
          {promptMemory.refusal}
        </p>
      )}
      {fallback && (
        <p className="warning" role="status">
          {model.backend === 'cpu'
            ? `CPU fallback: ${model.backendNote ?? 'no WebGPU adapter'}. Results are exact but slow.`
            : `Software adapter (${model.adapter?.description || 'fallback'}): results are exact but slow; timings mean nothing here.`}
        </p>
      )}
    </div>
  );
}

export function LoadPanel() {
  const load = useApp((s) => s.load);
  const hasModel = useApp((s) => s.model !== null);
  const modelFiles = useApp((s) => s.modelFiles);
  const loadModel = useApp((s) => s.loadModel);
  const setPrompt = useApp((s) => s.setPrompt);
  const fingerprint = useApp((s) => s.model?.fingerprint ?? null);
  const [over, setOver] = useState(false);
  const [demos, setDemos] = useState<Record<string, boolean>>({});
  const [demoNote, setDemoNote] = useState<string | null>(null);
  const [probes, setProbes] = useState<Probe[]>([]);
  // The examples' fetch, awaited by a demo load that starts before it ends (a quick first click).
  const probesLoad = useRef<Promise<Probe[]> | null>(null);
  // The example prompts are the demos' own probes: offered only while a demo is the loaded model.
  const [demoFingerprint, setDemoFingerprint] = useState<string | null>(null);
  const isDemo = fingerprint !== null && fingerprint === demoFingerprint;

  useEffect(() => {
    let live = true;
    for (const d of DEMOS) void demoAvailable(d).then((ok) => live && setDemos((s) => ({ ...s, [d.key]: ok })));
    probesLoad.current = fetchProbes();
    void probesLoad.current.then((p) => live && setProbes(p));
    return () => {
      live = false;
    };
  }, []);

  const take = async (files: ModelFile[]) => {
    if (files.length === 0) return;
    await loadModel(files, describeFiles(files));
  };

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    // Entries must be read inside the event handler, before any await.
    const pending = filesFromDrop(e.dataTransfer);
    await take(await pending);
  };

  const loadDemo = async (key: string) => {
    const demo = DEMOS.find((d) => d.key === key)!;
    setDemoNote(`Fetching ${demo.label}…`);
    const got = await fetchDemo(demo);
    if ('missing' in got) {
      setDemoNote(got.missing);
      return;
    }
    setDemoNote(null);
    if (await loadModel(got.files, demo.label)) {
      const s = useApp.getState();
      setDemoFingerprint(s.model?.fingerprint ?? null);
      // An example prompt only where the user has typed nothing (or left an earlier example).
      const examples = (await probesLoad.current) ?? probes;
      const p = examples[0];
      const now = useApp.getState().prompt;
      if (p && (now.trim() === '' || examples.some((q) => q.prompt === now))) setPrompt(p.prompt);
    }
  };

  const busy = load?.status === 'loading';
  const anyDemo = DEMOS.some((d) => demos[d.key]);

  // A demo button disables itself while its model loads: the focus goes to the load status and
  // comes back to the button after, rather than falling to the page.
  const statusRef = useRef<HTMLDivElement>(null);
  const returnTo = useRef<HTMLButtonElement | null>(null);
  useLayoutEffect(() => {
    if (!returnTo.current) return;
    if (busy) statusRef.current?.focus();
    else {
      const el = document.activeElement;
      if (!el || el === document.body || el === statusRef.current) returnTo.current.focus();
      returnTo.current = null;
    }
  }, [busy]);

  return (
    <section className="side-section" aria-labelledby="load-title">
      <h2 id="load-title">Model</h2>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => void onDrop(e)}
        aria-describedby="drop-help"
      >
        <p id="drop-help">
          Drop a model folder (config.json, *.safetensors, tokenizer.json), several files, or a llama2.c <code>.bin</code> with its <code>tokenizer.bin</code>.
          Files stay on this machine.
        </p>
        <div className="row">
          <label className="button">
            Choose files…
            <input
              className="visually-hidden"
              type="file"
              multiple
              aria-label="Choose model files"
              data-testid="files-input"
              onChange={(e) => {
                const list = e.currentTarget.files;
                if (list) void take(filesFromList(list));
                e.currentTarget.value = '';
              }}
            />
          </label>
          <label className="button">
            Choose folder…
            <input
              className="visually-hidden"
              type="file"
              multiple
              aria-label="Choose a model folder"
              data-testid="folder-input"
              {...{ webkitdirectory: '' }}
              onChange={(e) => {
                const list = e.currentTarget.files;
                if (list) void take(filesFromList(list));
                e.currentTarget.value = '';
              }}
            />
          </label>
        </div>
        <div className="row demos">
          {DEMOS.map((d) => (
            <button
              key={d.key}
              type="button"
              disabled={!demos[d.key] || busy}
              onClick={(e) => {
                returnTo.current = document.activeElement === e.currentTarget ? e.currentTarget : null;
                void loadDemo(d.key);
              }}
              title={demos[d.key] ? `Load the bundled ${d.label}` : `${d.label} is not bundled with this build`}
            >
              Load {d.label}
            </button>
          ))}
        </div>
        {!anyDemo && Object.keys(demos).length === DEMOS.length && <p className="muted small">No demo model is bundled with this build.</p>}
        {demoNote && (
          <p className="muted small" role="status">
            {demoNote}
          </p>
        )}
      </div>
      <HubField />

      {load && (
        <div className={`load-status ${load.status}`} aria-live="polite" ref={statusRef} tabIndex={-1} data-testid="load-status">
          <div className="load-head">
            {load.status === 'loading' ? (
              <span>
                <span className="spinner" aria-hidden="true" /> Loading {load.label}…
              </span>
            ) : (
              <span className="error-title">
                Could not load {load.label}
                {hasModel ? '; the previous model is still loaded.' : '.'}
              </span>
            )}
            {load.status === 'failed' && (
              <button type="button" className="small" onClick={() => useApp.getState().dismissLoad()} aria-label="Dismiss the load error">
                ×
              </button>
            )}
          </div>
          <FileList files={load.files} error={load.error} />
        </div>
      )}

      <ModelCard />
      <RememberToggle />
      {hasModel && !load && modelFiles.length > 0 && (
        <details className="loaded-files">
          <summary>{modelFiles.length} files</summary>
          <FileList files={modelFiles} />
        </details>
      )}
      {hasModel && isDemo && probes.length > 0 && (
        <label className="field">
          <span>Example prompts</span>
          <select
            aria-label="Example prompts"
            value=""
            onChange={(e) => {
              const p = probes.find((q) => q.id === e.target.value);
              if (p) setPrompt(p.prompt);
            }}
          >
            <option value="">choose…</option>
            {probes.map((p) => (
              <option key={p.id} value={p.id}>
                {p.kind}: {p.prompt.length > 60 ? p.prompt.slice(0, 57) + '…' : p.prompt}
              </option>
            ))}
          </select>
        </label>
      )}
    </section>
  );
}
