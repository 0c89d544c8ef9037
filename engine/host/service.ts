/**
 * The engine host in one Node process: everything the renderer asks for
 * (examples, files, recovery, runs and their slices, exports, training) behind the typed HostApi. The
 * transports split it: `npm run web` serves the file side on its event loop
 * and the numeric side in a worker thread (threaded.ts); the desktop app
 * serves the file side in Electron's main process (with its dialogs) and
 * the numeric side in a utility process. Tests use it whole.
 *
 * Nothing here throws across a transport for a user's mistake: a run or an
 * export answers `{ ok: false, error }`; a file that cannot be read rejects
 * with a HostError whose message is meant for the user.
 */
import type { HostApi } from './api';
import { createFileHost, newRunDir } from './files';
import { type NumericHost, createNumericHost } from './numeric';
import { version } from './version';

export interface HostServiceOptions {
  /** assets/examples */
  examplesDir: string;
  /** recent files and the recovery file */
  dataDir: string;
  /** served to the desktop app (file dialogs exist) rather than a browser */
  desktop: boolean;
}

export function createHostService(opts: HostServiceOptions, numeric: NumericHost = createNumericHost()): HostApi {
  const files = createFileHost(opts);
  return {
    ...files,
    async info() {
      return { version, providers: numeric.providers(), desktop: opts.desktop };
    },
    run: (req) => numeric.run(req),
    tensorSlice: (req) => numeric.tensorSlice(req),
    exportModel: (req) => numeric.exportModel(req),
    // a run without a directory gets a new one under the data folder
    trainStart: (req) => numeric.trainStart({ ...req, dir: req.dir || newRunDir(opts.dataDir, req.doc) }),
    trainStatus: (req) => numeric.trainStatus(req),
    trainStop: (req) => numeric.trainStop(req),
    trainRuns: () => numeric.trainRuns(),
    exportTrained: (req) => numeric.exportTrained(req),
  };
}
