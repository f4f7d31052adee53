import { useTranslation } from "react-i18next";
import { ApiError } from "../api/problem";
import { problemDetail, problemTitle } from "./problemText";

interface ProblemMessageProps {
  /** A mutation's error: shown when it is an API problem. */
  error: unknown;
  /** Beside a button (a span), rather than under a form (a paragraph). */
  inline?: boolean;
  /** A form that shows field errors next to their fields: only problems without any. */
  besideFields?: boolean;
}

/** A failed write in the reader's words: the problem's own explanation, else its kind. */
export function ProblemMessage({ error, inline, besideFields }: ProblemMessageProps) {
  const { i18n } = useTranslation();
  if (!(error instanceof ApiError)) return null;
  const problem = error.problem;
  if (besideFields && problem.fieldViolations.length > 0) return null;
  const text = problemDetail(i18n, problem) || problemTitle(i18n, problem);
  return inline ? (
    <span className="inline-error" role="alert">
      {text}
    </span>
  ) : (
    <p className="form-error" role="alert">
      {text}
    </p>
  );
}
