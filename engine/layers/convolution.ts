/** The `convolution` module of the spec. */
import { family, type SpecNote } from './family';

export const convolutionLayers = family('convolution', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const convolutionNotes: Record<string, SpecNote> = {};
