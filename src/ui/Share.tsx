// Sharing a run as a link: the Share button (copies the URL, shows its size), the banner of a
// run opened from a link (read-only; re-run live when the matching model is loaded, remembered
// or named on the Hub; a plain message when another model is loaded or the link is damaged), and the
// hook that opens links from the address on load and on hashchange. All text is React text.

import { useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useApp } from '../state';
import { isRunFragment } from '../share/decode';
import { openLink } from '../share/open-link';
import { hubActive, sharedModelState } from '../state/selectors';
import { shortFingerprint } from '../share/snapshot';
import { useDebounced } from './common';
import { HubStatus } from './HubLoad';
import { clip, plainText } from './format';
import { shareFragmentOf } from './comparison-link';
import { pageAddress } from './run-link';
import './share.css';

/** Links longer than this are cut by some chat and mail programs. */
const LONG_LINK = 32_000;

const kB = (chars: number) => `${(chars / 1000).toFixed(1)} kB`;

export function ShareButton() {
  const result = useApp((s) => s.result);
  const resultState = useApp((s) => s.resultState);
  const running = useApp((s) => s.running !== null);
  // What the link depends on; the size is recomputed (debounced) when any of it changes.
  const overrides = useApp((s) => s.overrides);
  const selected = useApp((s) => s.selected);
  const pinnedHead = useApp((s) => s.pinnedHead);
  const pinnedNeuron = useApp((s) => s.pinnedNeuron);
  const threshold = useApp((s) => s.flowThreshold);
  const words = useApp((s) => s.words);
  const hideSpecial = useApp((s) => s.hideSpecial);
  const settings = useApp((s) => s.settings);
  const vocab = useApp((s) => s.vocab);
  const second = useApp((s) => s.second);
  const hasDetail = !!(result?.token?.by_layer || result?.logit_lens);
  const [detail, setDetail] = useState(true);
  const [size, setSize] = useState<number | null>(null);
  const [open, setOpen] = useState(false);
  const [url, setUrl] = useState('');
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);

  // The dialog is modal: Escape closes it wherever the focus is, and a click outside closes it too.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      buttonRef.current?.focus();
    };
    const onPointer = (e: PointerEvent) => {
      if (dialogRef.current && !dialogRef.current.contains(e.target as Node) && !buttonRef.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('pointerdown', onPointer, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('pointerdown', onPointer, true);
    };
  }, [open]);

  useDebounced(
    () => {
      const f = shareFragmentOf(useApp.getState(), detail);
      setSize(f === null ? null : pageAddress().length + f.length);
    },
    250,
    [result, overrides, selected, pinnedHead, pinnedNeuron, threshold, words, hideSpecial, settings, vocab, detail, second],
  );

  if (!result) return null;
  const partial = resultState !== 'complete';

  const share = async (withDetail = detail) => {
    const f = shareFragmentOf(useApp.getState(), withDetail);
    if (f === null) return;
    const u = pageAddress() + f;
    setUrl(u);
    setSize(u.length);
    setOpen(true);
    setCopied(null);
    try {
      await navigator.clipboard.writeText(u);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
    requestAnimationFrame(() => {
      inputRef.current?.focus();
      inputRef.current?.select();
    });
  };

  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };

  /** Tab and Shift+Tab cycle through the dialog's own controls. */
  const trap = (e: ReactKeyboardEvent) => {
    if (e.key !== 'Tab' || !dialogRef.current) return;
    const items = Array.from(dialogRef.current.querySelectorAll<HTMLElement>('input, button, [tabindex]:not([tabindex="-1"])')).filter(
      (el) => !(el as HTMLButtonElement).disabled,
    );
    if (items.length === 0) return;
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : at === items.length - 1 ? 0 : at + 1;
    e.preventDefault();
    items[next].focus();
  };

  return (
    <span className="share">
      <button
        ref={buttonRef}
        type="button"
        onClick={() => void share()}
        disabled={running || partial}
        aria-haspopup="dialog"
        aria-expanded={open}
        title={partial ? 'Share needs a complete run' : 'Copy a link that holds this run (scores quantised to 8 bits per row); the link is never sent anywhere'}
        aria-describedby={size !== null ? 'link-size' : undefined}
      >
        Share
      </button>
      {size !== null && (
        <span
          id="link-size"
          className="num small muted"
          data-testid="link-size"
          data-chars={size}
          title={`The link Share copies holds the whole run: ${size.toLocaleString('en')} characters. Links over ${LONG_LINK.toLocaleString('en')} characters may be cut by some mail and chat programs.`}
        >
          link {kB(size)}
        </span>
      )}
      {open && (
        <div className="share-popover" role="dialog" aria-modal="true" aria-label="Link to this run" ref={dialogRef} onKeyDown={trap}>
          <input
            ref={inputRef}
            className="mono"
            readOnly
            value={url}
            aria-label="Link to this run"
            data-testid="share-url"
            onFocus={(e) => e.currentTarget.select()}
          />
          <div className="row small">
            <span role="status">
              {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copy the link from the box (the clipboard refused).' : 'Copying…'}{' '}
              {url.length.toLocaleString('en')} characters{url.length > LONG_LINK ? '; some mail and chat programs cut links this long' : ''}.
            </span>
            {hasDetail && (
              <label className="check">
                <input
                  type="checkbox"
                  checked={detail}
                  onChange={(e) => {
                    setDetail(e.target.checked);
                    void share(e.target.checked);
                  }}
                />
                include per-layer detail
              </label>
            )}
            <span className="spacer" />
            <button type="button" className="small" onClick={close}>
              Close
            </button>
          </div>
        </div>
      )}
    </span>
  );
}

/** Removes the run from the address without a hashchange (the page already shows what it should). */
function dropFragment() {
  if (isRunFragment(location.hash)) history.replaceState(history.state, '', pageAddress());
}

export function SharedBanner() {
  const shared = useApp((s) => s.shared);
  const linkError = useApp((s) => s.linkError);
  const opening = useApp((s) => s.linkOpening);
  const modelState = useApp(sharedModelState);
  const model = useApp((s) => s.model);
  const busy = useApp((s) => s.running !== null || s.load?.status === 'loading' || s.shelf.busy !== null || hubActive(s.hub));

  if (opening && !shared) {
    return (
      <div className="share-banner wide" role="status">
        Opening the shared run…
      </div>
    );
  }
  if (linkError) {
    return (
      <div className="share-banner wide failed" role="alert">
        <span>Could not open this link: {linkError}. The app works as usual otherwise.</span>
        <span className="spacer" />
        <button
          type="button"
          className="small"
          onClick={() => {
            useApp.getState().setLinkState({ error: null });
            dropFragment();
          }}
        >
          Dismiss
        </button>
      </div>
    );
  }
  if (!shared) return null;
  const r = shared.run.result;
  const source = shared.run.source;
  const fp = shortFingerprint(r.model.fingerprint);
  const rerun = () => {
    dropFragment();
    void useApp.getState().rerunShared();
  };
  return (
    <section className="share-banner wide" aria-label="Shared run" data-testid="shared-banner">
      <div className="row wrap">
        <strong title={plainText(r.model.name).length > 80 ? plainText(r.model.name) : undefined}>
          Shared run of {clip(plainText(r.model.name), 80)} ({fp}) — read-only
        </strong>
        <span className="muted small">
          {r.tokens.length} tokens · {shared.chars.toLocaleString('en')}-character link · scores rounded to 8 bits per row and shown with the digits the link
          holds
        </span>
        <span className="spacer" />
        {modelState === 'loaded' && (
          <button type="button" className="primary" onClick={rerun} disabled={busy}>
            Re-run live with the loaded model
          </button>
        )}
        {modelState === 'remembered' && (
          <button type="button" className="primary" onClick={rerun} disabled={busy}>
            Load {clip(plainText(r.model.name), 40)} from this computer and re-run
          </button>
        )}
        {(modelState === 'none' || modelState === 'other') && source && (
          <button type="button" className="primary" onClick={rerun} disabled={busy} title={`${source.hub} at commit ${source.revision}`}>
            Download {source.hub} ({source.revision.slice(0, 7)}) from the Hugging Face Hub and re-run
          </button>
        )}
        <button
          type="button"
          onClick={() => {
            dropFragment();
            useApp.getState().closeShared();
          }}
        >
          Close shared run
        </button>
      </div>
      {modelState === 'other' && model && (
        <p className="warning" role="status">
          The loaded model, {clip(plainText(model.name), 80)} ({shortFingerprint(model.fingerprint)}), is not the model this run was made with. Everything shown
          comes from the link alone; it cannot be re-run with these weights. Load {clip(plainText(r.model.name), 80)} ({fp}) to re-run it.
        </p>
      )}
      {modelState === 'none' && (
        <p className="small muted">
          Nothing is computed here: these are the link’s numbers. Load {clip(plainText(r.model.name), 80)} ({fp}) to re-run it live.
        </p>
      )}
      {source && <HubStatus />}
    </section>
  );
}

/** Opens the run in the address on load and whenever the fragment changes. */
export function useLinkFromLocation(): void {
  useEffect(() => {
    let live = true;
    const check = () => {
      const hash = location.hash;
      const s = useApp.getState();
      if (!isRunFragment(hash)) {
        // Back or a new address without a run: leave the shared run.
        if (s.shared) s.closeShared();
        if (s.linkError || s.linkOpening) s.setLinkState({ opening: false, error: null });
        return;
      }
      s.setLinkState({ opening: true, error: null });
      openLink(hash).then(
        ({ run, second }) => {
          if (live && location.hash === hash) useApp.getState().openShared(run, hash.length, second);
        },
        (err: unknown) => {
          if (live && location.hash === hash)
            useApp.getState().setLinkState({ opening: false, error: err instanceof Error ? err.message : 'this link is damaged' });
        },
      );
    };
    check();
    window.addEventListener('hashchange', check);
    return () => {
      live = false;
      window.removeEventListener('hashchange', check);
    };
  }, []);
}
