/** The `efficient_attention` module of the spec. */
import { family, type SpecNote } from './family';

export const efficient_attentionLayers = family('efficient_attention', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const efficient_attentionNotes: Record<string, SpecNote> = {};
