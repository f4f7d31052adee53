// What to tell people about a Problem, in their language: the refusal's own text when its code
// has a template, else a sentence for the kind of failure, with the gateway's detail beside it.
import type { i18n } from "i18next";
import type { Problem } from "../api/problem";
import { hasTemplate, localize } from "../i18n/localizable";

export function problemTitle(i18n: i18n, problem: Problem): string {
  const t = i18n.t.bind(i18n);
  switch (problem.status) {
    case 0:
      return t("problem.network");
    case 401:
      return t("problem.unauthenticated");
    case 403:
      return t("problem.forbidden");
    case 404:
      return t("problem.notFound");
    case 409:
      return t("problem.conflict");
    case 422:
      return t("problem.refused");
    case 429:
      return t("problem.throttled");
    case 503:
      return t("problem.unavailable");
    default:
      return problem.status >= 500 ? t("problem.internal") : t("problem.invalid");
  }
}

/** The problem's own explanation: translated by its text code, else the gateway's English. */
export function problemDetail(i18n: i18n, problem: Problem): string {
  if (problem.status === 0) return "";
  if (hasTemplate(i18n, problem.text)) return localize(i18n, problem.text);
  return problem.detail;
}
