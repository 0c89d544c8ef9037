/** Entry of the bundled CLI (dist/cli.js). */
import { main } from './main';

export async function run(argv: string[]): Promise<number> {
  return main(argv, {
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
  });
}
