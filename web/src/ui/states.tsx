import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { Problem } from "../api/problem";
import { problemDetail, problemTitle } from "./problemText";

export function LoadingState({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? t("states.loading")}</span>
    </div>
  );
}

/** A 503 or 429 while TanStack Query waits out the Retry-After. */
export function RetryingState({ problem }: { problem: Problem }) {
  const { t } = useTranslation();
  const seconds = problem.retryAfterSeconds;
  return (
    <div className="state state-retrying" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>
        {problem.status === 429 ? t("states.throttled") : t("states.unavailableRetrying")}
        {seconds !== undefined && ` ${t("states.retryIn", { count: seconds })}`}
      </span>
    </div>
  );
}

/** What to say when there is nothing: what it means, and what to do about it. */
export function EmptyState({ title, hint, action }: { title: string; hint?: string; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {hint && <p className="state-hint">{hint}</p>}
      {action}
    </div>
  );
}

export function ErrorState({ problem, onRetry }: { problem: Problem; onRetry?: () => void }) {
  const { t, i18n } = useTranslation();
  const detail = problemDetail(i18n, problem);
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{problemTitle(i18n, problem)}</p>
      {detail && <p className="state-hint">{detail}</p>}
      {problem.requestId && (
        <p className="state-meta">{t("states.requestId", { id: problem.requestId })}</p>
      )}
      {onRetry && (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          {t("states.retry")}
        </button>
      )}
    </div>
  );
}
