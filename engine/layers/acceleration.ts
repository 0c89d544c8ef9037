/** The `acceleration` module of the spec. */
import { family, type SpecNote } from './family';

export const accelerationLayers = family('acceleration', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const accelerationNotes: Record<string, SpecNote> = {};
