// What a permalink is: a run (result, settings, view state) packed into the URL fragment, which
// browsers never send anywhere. Here: the fragment's prefix and format version, the run's types and
// the one error decoding throws. Not the bytes (encode.ts, decode.ts, read-*.ts; docs/permalinks.md).

import type { DepassResult, Mode, Rule } from '../../depass/result';
import type { ModelSource } from '../remembered';

/**
 * Fragment layout: #run=<version>.<base64url(deflate(container))>, where container = u32 LE
 * length of the JSON head, the UTF-8 JSON head, then the quantised arrays as zigzag varints and
 * signed bytes. Version 2 (written now) stores logits as deltas and rests so that the decoded
 * scores still add up to the logit (the rest takes the scores' rounding), and skips what the
 * forward pass already gives (targets that are the predictions, the last layer of the per-layer
 * read-outs); version 1 links still decode.
 */
export const LINK_VERSION = 2;
export const LINK_PREFIX = '#run=';

/** What the views show, carried by the link beside the result. */
export interface ViewState {
  selected: number | null;
  /** Names of the open views. */
  views: string[];
  /** Flow graph edge threshold, 0..1 of the largest edge. */
  threshold: number;
  head: { layer: number; head: number } | null;
  /** Layer chosen for the neuron view. */
  layer: number | null;
  /** Pinned neuron of the neuron view (version 2). */
  neuron?: number | null;
  /** Sources shown as words, their tokens' scores summed (absent: tokens). */
  words?: boolean;
  /** Special tokens left out of the views and rankings, shown as one total (absent: shown). */
  hideSpecial?: boolean;
  /** Positions of special tokens that have a span of their own (typed chat markers); those without one need no mention. */
  special?: number[];
}

export interface RunSettingsShared {
  modes: Mode[];
  rule: Rule;
  layer?: number;
  target?: number;
  contrast?: number;
  positions?: 'all' | 'last' | number[];
  /** Per-layer read-out and logit lens were asked for (version 2). */
  layerDetail?: boolean;
}

/** A target re-run at one position: another token, or a contrast between two (version 2). */
export interface SharedOverride {
  position: number;
  target: number;
  contrast: number | null;
  /** Shares prompt, tokens, predictions and logit lens with the main result. */
  result: DepassResult;
}

export interface SharedRun {
  result: DepassResult;
  settings: RunSettingsShared;
  view: ViewState;
  /** What the views need of the model when it is not loaded (version 2). */
  shape?: { layers: number; vocab_size: number };
  /** Display text of the token ids the run names, [id, text] sorted by id (version 2). */
  vocab?: [number, string][];
  /** The first target re-run, by position. */
  override?: SharedOverride;
  /** The Hub repository and commit of the model, when it came from the Hub (version 2, optional). */
  source?: ModelSource;
  /** Target re-runs at further positions, one per position, after `override` (version 2). */
  more?: SharedOverride[];
}

export class LinkError extends Error {
  override readonly name = 'LinkError';
}
