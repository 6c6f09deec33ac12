// Models remembered on this computer: the consent checkbox under the loaded model (off until
// the user ticks it), and the list of remembered models with their sizes, Load and Remove, and
// how much this site stores. Storage itself is src/share/remembered.ts; state is the store's.

import { useEffect } from 'react';
import { useApp } from '../state';
import { shortFingerprint } from '../share/snapshot';
import { bytes, clip, plainText } from './format';
import './share.css';

export function RememberToggle() {
  const model = useApp((s) => s.model);
  const shelf = useApp((s) => s.shelf);
  const loading = useApp((s) => s.load?.status === 'loading');
  if (!model) return null;
  const remembered = shelf.models.some((m) => m.fingerprint === model.fingerprint);
  const saving = shelf.busy?.startsWith('Saving') ?? false;
  const unavailable = shelf.available === false;
  return (
    <div className="remember">
      <label className="check" title="Keeps a copy of the model's files in this browser's private storage for this site, so it loads without dropping it again">
        <input
          type="checkbox"
          checked={remembered || saving}
          disabled={unavailable || shelf.busy !== null || loading || shelf.available === null}
          onChange={(e) => {
            const s = useApp.getState();
            if (e.target.checked) void s.rememberLoaded();
            else void s.forgetModel(model.fingerprint);
          }}
        />
        Remember this model on this computer
      </label>
      {unavailable && <p className="small muted">This browser offers no private file storage for this site (OPFS), so models cannot be remembered here.</p>}
      {shelf.busy && (
        <p className="small muted" role="status">
          {shelf.busy}
        </p>
      )}
      {shelf.error && (
        <p className="error" role="alert">
          {shelf.error}
        </p>
      )}
    </div>
  );
}

export function RememberedModels() {
  const shelf = useApp((s) => s.shelf);
  const current = useApp((s) => s.model?.fingerprint ?? null);
  const busy = useApp((s) => s.shelf.busy !== null || s.load?.status === 'loading' || s.running !== null);

  useEffect(() => {
    void useApp.getState().refreshShelf();
  }, []);

  if (!shelf.available || shelf.models.length === 0) return null;
  const total = shelf.models.reduce((a, m) => a + m.bytes, 0);
  return (
    <section className="side-section" aria-labelledby="remembered-title">
      <h2 id="remembered-title">Remembered on this computer</h2>
      <ul className="remembered" aria-label="Remembered models">
        {shelf.models.map((m) => (
          <li key={m.fingerprint} className={m.fingerprint === current ? 'current' : undefined} data-fingerprint={m.fingerprint}>
            <span className="name" title={`${m.fingerprint}\n${m.files.length} files, saved ${new Date(m.saved).toLocaleString()}`}>
              {clip(plainText(m.name), 80)} <span className="muted mono">{shortFingerprint(m.fingerprint)}</span>
            </span>
            <span className="num">{bytes(m.bytes)}</span>
            <button
              type="button"
              className="small"
              disabled={busy || m.fingerprint === current}
              onClick={() => void useApp.getState().loadRemembered(m.fingerprint)}
              aria-label={`Load ${m.name} from this computer`}
            >
              Load
            </button>
            <button
              type="button"
              className="small"
              disabled={busy}
              onClick={() => void useApp.getState().forgetModel(m.fingerprint)}
              aria-label={`Remove ${m.name} from this computer`}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <p className="small muted" data-testid="storage-usage">
        {bytes(total)} in {shelf.models.length} {shelf.models.length === 1 ? 'model' : 'models'}
        {shelf.usage ? ` · this site stores ${bytes(shelf.usage.usage)} of ${bytes(shelf.usage.quota)} allowed` : ''}
        {shelf.persisted === true ? ' · kept until you remove it' : shelf.persisted === false ? ' · the browser may clear it when space runs low' : ''}
      </p>
    </section>
  );
}
