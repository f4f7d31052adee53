import type { ReactNode } from "react";

/** A whole-page message before the shell exists (restoring a session). */
export function FullPageMessage({ children, busy = false }: { children: ReactNode; busy?: boolean }) {
  return (
    <main className="full-page" aria-busy={busy}>
      {busy && <span className="spinner" aria-hidden="true" />}
      <p role="status">{children}</p>
    </main>
  );
}
