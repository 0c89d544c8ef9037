/** Strata's version, from package.json (bundled in: no file read at run time). */
import pkg from '../../package.json';

export const version: string = pkg.version;
