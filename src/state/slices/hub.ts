// The store's hub slice: a model by id from the Hugging Face Hub, downloaded onto the
// remembered-models shelf (or found there) and then opened like any remembered model, with
// progress, cancel and the download's one-line failure. The token lives in the store's context.

import { HubError } from '../../hub/errors';
import { fetchModel } from '../../hub/fetch-model';
import { parseRepoRef, refLabel } from '../../hub/repo-id';
import { StorageError } from '../../share/remembered';
import { hubActive } from '../selectors';
import type { HubDownload, HubSlice, Slice } from '../types';

const idle = (label: string): HubDownload => ({ label, stage: 'listing', file: null, done: 0, total: 0, rate: null, secondsLeft: null, error: null });

export const hubSlice: Slice<HubSlice> = (ctx) => (set, get) => ({
  hub: null,

  setHubToken(token) {
    ctx.hubToken = token.trim();
  },

  async downloadFromHub(input) {
    if (hubActive(get().hub) || get().load?.status === 'loading') return false;
    const access = ctx.hub();
    let label = input.trim();
    try {
      const ref = parseRepoRef(input, access.endpoint);
      label = refLabel(ref.id, ref.revision);
      const ac = new AbortController();
      ctx.hubAbort = ac;
      set({ hub: idle(label) });
      const got = await fetchModel({
        access,
        ref,
        token: ctx.hubToken || undefined,
        shelf: ctx.shelf(),
        signal: ac.signal,
        onProgress: (p) => set({ hub: { ...idle(label), ...p } }),
      });
      set((s) => ({ hub: s.hub && { ...s.hub, stage: 'opening' } }));
      await get().refreshShelf();
      const ok = await get().loadRemembered(got.model.fingerprint);
      // A failed load shows its own message beside the file it names (the load panel).
      set({ hub: null });
      return ok;
    } catch (e) {
      const cancelled = e instanceof HubError && e.kind === 'cancelled';
      const error = cancelled ? null : e instanceof HubError || e instanceof StorageError || e instanceof Error ? e.message : String(e);
      set((s) => ({ hub: { ...(s.hub ?? idle(label)), stage: cancelled ? 'cancelled' : 'failed', error } }));
      if (!cancelled) await get().refreshShelf();
      return false;
    } finally {
      ctx.hubAbort = null;
    }
  },

  cancelHub() {
    ctx.hubAbort?.abort();
  },

  dismissHub() {
    if (!hubActive(get().hub)) set({ hub: null });
  },
});
