/** Argument parsing for `strata`: each command declares its flags; anything else is bad usage. */
export class UsageError extends Error {}

export interface FlagSpec {
  /** takes a value (`--seed 3`, `--seed=3`) or is a switch (`--json`) */
  value: boolean;
  /** may be given more than once (`--input A --input B`) */
  repeat?: boolean;
  alias?: string;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseFlags(argv: string[], specs: Record<string, FlagSpec>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const byAlias = new Map<string, string>();
  for (const [k, s] of Object.entries(specs)) if (s.alias) byAlias.set(s.alias, k);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const isFlag = a.startsWith('-') && a.length > 1 && !/^-\d/.test(a);
    if (!isFlag) { positional.push(a); continue; }
    let name = a.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    name = byAlias.get(name) ?? name;
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option ${a}`);
    if (spec.value) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
      }
    } else if (value !== undefined) {
      throw new UsageError(`--${name} takes no value`);
    } else {
      value = 'true';
    }
    const list = flags.get(name) ?? [];
    if (list.length && !spec.repeat) throw new UsageError(`--${name} given twice`);
    list.push(value);
    flags.set(name, list);
  }
  return { positional, flags };
}

export function flag(p: ParsedArgs, name: string): string | undefined {
  return p.flags.get(name)?.[0];
}

export function intFlag(p: ParsedArgs, name: string, fallback: number, min = 0): number {
  const v = flag(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs an integer >= ${min}, got '${v}'`);
  return n;
}

export function choiceFlag<T extends string>(p: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const v = flag(p, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}
