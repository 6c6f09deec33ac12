// How close the WebGPU engine must come to the reference engine, per kernel path: logits and
// completeness relative to the logit scale (the largest |logit| of the prompt, at least 1), scores
// relative to the largest |score| of their mode. docs/method.md states the same numbers.

import type { ModelDescription } from '../../model/description';
import type { DeviceProfile } from '../profile';

export interface Tolerance {
  logits: number;
  scores: number;
  completeness: number;
}

/** f32 products on both sides: only the order of f32 sums differs. */
export const EXACT: Tolerance = { logits: 1e-4, scores: 1e-3, completeness: 1e-4 };

/**
 * F16 weights multiplied as f16 (each activation and each product rounded to f16, sums in f32) on
 * the GPU, exact products in the reference: about 3x the largest errors measured on the test models
 * on lavapipe (logits 8.5e-4, scores 1.1e-3, completeness 5.4e-4).
 */
export const F16_PRODUCTS: Tolerance = { logits: 3e-3, scores: 5e-3, completeness: 2e-3 };

/** The tolerance for a model on an engine with this profile. */
export function toleranceFor(profile: DeviceProfile, cfg: ModelDescription): Tolerance {
  return profile.nativeF16 && cfg.dtype === 'F16' ? F16_PRODUCTS : EXACT;
}
