/** The `base` module of the spec. */
import { family, type SpecNote } from './family';

export const baseLayers = family('base', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const baseNotes: Record<string, SpecNote> = {};
