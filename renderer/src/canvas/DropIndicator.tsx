/** Where a drop lands: a line between layers (or beside lanes), or a box around the layer argument it replaces. */
import type { DropTarget } from './drop';

export function DropIndicator({ drop }: { drop: DropTarget }): React.ReactElement {
  if ('place' in drop && drop.replace) {
    const b = drop.replace.box;
    return (
      <div className="strata-drop-replace" data-testid="drop-indicator" data-mode="replace" style={{ left: b.x, top: b.y, width: b.w, height: b.h }}>
        <span className="strata-drop-replace-label">replace {drop.replace.kind}</span>
      </div>
    );
  }
  const l = drop.line;
  return (
    <div className={`strata-drop-line${l.x1 === l.x2 ? ' is-vertical' : ''}`} data-testid="drop-indicator" data-mode="insert"
      style={{ left: Math.min(l.x1, l.x2), top: Math.min(l.y1, l.y2), width: Math.abs(l.x2 - l.x1) || undefined, height: Math.abs(l.y2 - l.y1) || undefined }} />
  );
}
