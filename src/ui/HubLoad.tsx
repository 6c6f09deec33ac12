// Loading a model from the Hugging Face Hub by id: the id field (a page address works too), the
// access token for gated models (memory only, handed to the store's context, never to its state),
// Download, and the download's progress (bytes, rate, time left), Cancel and one-line failures.

import { useState } from 'react';
import { useApp } from '../state';
import { hubActive } from '../state/selectors';
import { bytes } from './format';

const seconds = (s: number) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

const STAGES: Record<string, string> = {
  listing: 'Listing the files',
  downloading: 'Downloading',
  checking: 'Checking the files',
  saving: 'Keeping it on this computer',
  opening: 'Opening',
};

/** The download in progress, or how the last one ended; used under the field and in a shared run's banner. */
export function HubStatus() {
  const hub = useApp((s) => s.hub);
  if (!hub) return null;
  if (hub.stage === 'failed' || hub.stage === 'cancelled') {
    return (
      <div className="hub-status row wrap">
        {hub.stage === 'failed' ? (
          <p className="error" role="alert">
            Could not download {hub.label}: {hub.error}
          </p>
        ) : (
          <p className="small muted" role="status">
            Download of {hub.label} cancelled; nothing was kept.
          </p>
        )}
        <button type="button" className="small" onClick={() => useApp.getState().dismissHub()} aria-label="Dismiss the download message">
          ×
        </button>
      </div>
    );
  }
  const fraction = hub.total > 0 ? Math.min(1, hub.done / hub.total) : 0;
  const detail = [
    hub.total > 0 ? `${bytes(hub.done)} of ${bytes(hub.total)}` : null,
    hub.stage === 'downloading' && hub.rate ? `${bytes(hub.rate)}/s` : null,
    hub.stage === 'downloading' && hub.secondsLeft !== null ? `${seconds(hub.secondsLeft)} left` : null,
  ].filter((x) => x !== null);
  return (
    <div className="progress hub-status" role="status" aria-live="polite" data-testid="hub-progress">
      <div
        className="bar"
        role="progressbar"
        aria-label="Download progress"
        aria-valuemin={0}
        aria-valuemax={hub.total}
        aria-valuenow={hub.done}
        aria-valuetext={`${STAGES[hub.stage]} ${hub.label}`}
      >
        <div className="fill" style={{ width: `${fraction * 100}%` }} />
      </div>
      <div className="progress-text small">
        <span>
          {STAGES[hub.stage]} {hub.stage === 'downloading' && hub.file ? hub.file : hub.label}…
        </span>
        <span className="num">{detail.join(' · ')}</span>
      </div>
      <button type="button" className="small" onClick={() => useApp.getState().cancelHub()} disabled={hub.stage === 'opening' || hub.stage === 'saving'}>
        Cancel download
      </button>
    </div>
  );
}

export function HubField() {
  const busy = useApp((s) => hubActive(s.hub) || s.load?.status === 'loading' || s.shelf.busy !== null);
  // A shared run that names a Hub model shows the download in its banner instead.
  const statusHere = useApp((s) => !s.shared?.run.source);
  const [id, setId] = useState('');
  const [token, setToken] = useState('');
  const start = () => {
    if (!busy && id.trim()) void useApp.getState().downloadFromHub(id);
  };
  // No <form>: a submitted password field invites the browser to offer saving it.
  return (
    <div className="hub" role="group" aria-labelledby="hub-title">
      <h3 id="hub-title" className="small">
        From the Hugging Face Hub
      </h3>
      <div className="row">
        <input
          type="text"
          value={id}
          onChange={(e) => setId(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') start();
          }}
          placeholder="owner/name, owner/name@revision or a model page address"
          aria-label="Hugging Face model id"
          spellCheck={false}
          autoComplete="off"
        />
        <button type="button" onClick={start} disabled={busy || !id.trim()}>
          Download
        </button>
      </div>
      <details className="small">
        <summary>Access token (gated or private models)</summary>
        <input
          type="password"
          value={token}
          onChange={(e) => {
            setToken(e.target.value);
            useApp.getState().setHubToken(e.target.value);
          }}
          aria-label="Hugging Face access token"
          autoComplete="off"
          spellCheck={false}
        />
        <p className="muted">Sent to the Hub only and kept in this page’s memory only: never saved, logged or put in a link.</p>
      </details>
      <p className="small muted">
        Nothing is requested until you press Download. The files go into this browser’s private storage and the model is remembered on this computer.
      </p>
      {statusHere && <HubStatus />}
    </div>
  );
}
