/** Stack items as chips (the inspector's and the run panel's; the canvas draws its own). */
import type { ShapeDtype } from '../../../engine/core/shape';
import { formatShapeDtype } from '../../../engine/core/shape';

export function Chips({ stack, empty = '(empty)' }: { stack: readonly ShapeDtype[] | null; empty?: string }) {
  if (stack === null) return <span className="chip unknown" title="unknown: an error upstream">?</span>;
  if (stack.length === 0) return <span className="muted">{empty}</span>;
  return (
    <span className="chips">
      {stack.map((x, i) => (
        <span key={i} className={`chip dt-${x.dtype}`} data-testid="inspector-chip" title={i === 0 ? 'top of the stack' : `stack item ${i}`}>
          {formatShapeDtype(x)}
        </span>
      ))}
    </span>
  );
}
