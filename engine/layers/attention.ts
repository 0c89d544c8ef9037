/** The `attention` module of the spec. */
import { family, type SpecNote } from './family';

export const attentionLayers = family('attention', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const attentionNotes: Record<string, SpecNote> = {};
