/** The torchinfo-like table of `strata summary`. */
import { formatStack } from '../engine/core/shape';
import type { DocumentTrace } from '../engine/document/trace';
import type { SummaryRow } from '../engine/document/summary';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function groupDigits(v: number | string): string {
  return typeof v === 'number' ? v.toLocaleString('en-US') : v;
}

export function formatTable(rows: SummaryRow[], t: DocumentTrace): string {
  const cells = rows.map((r) => [
    `${r.depth === 0 ? '' : '  '.repeat(r.depth - 1) + '└─ '}${r.kind}${r.path ? ` (${r.path.split(' > ').pop()})` : ''}`,
    `${r.nIn ?? '?'} → ${r.nOut ?? '?'}`,
    formatStack(r.stackBefore),
    formatStack(r.stackAfter),
    r.shared ? '(shared)' : groupDigits(r.params),
  ]);
  const head = ['Layer (position)', 'In → Out', 'Stack before', 'Stack after', 'Params'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((x, i) => (i === c.length - 1 ? x.padStart(widths[i]) : pad(x, widths[i]))).join('  ');
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const out = [rule, line(head), rule, ...cells.map(line), rule];
  out.push(`Total params: ${groupDigits(t.params)}`);
  const stateCount = rows.length;
  void stateCount;
  out.push(`Input: ${formatStack(t.input)}`);
  out.push(`Output: ${formatStack(t.output)}`);
  out.push(rule);
  return out.join('\n');
}
