import type { ReactNode } from "react";

/**
 * A table that scrolls sideways when the screen is narrower than it. Keyboard users reach
 * the scrolling region by Tab (then scroll with the arrow keys), and it is named by its table.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
