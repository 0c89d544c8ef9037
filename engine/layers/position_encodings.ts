/** The `position_encodings` module of the spec. */
import { family, type SpecNote } from './family';

export const position_encodingsLayers = family('position_encodings', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const position_encodingsNotes: Record<string, SpecNote> = {};
