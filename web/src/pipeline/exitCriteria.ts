// A refused stage move, in the rep's words: the service answers FAILED_PRECONDITION
// EXIT_CRITERIA_NOT_MET with one field violation per missing criterion (docs/api.md,
// ChangeStage), and the board names each one — "Decision maker on the buying committee",
// "Next step" — instead of showing field paths.
import type { TFunction } from "i18next";
import type { Problem } from "../api/problem";

export const EXIT_CRITERIA_NOT_MET = "EXIT_CRITERIA_NOT_MET";

/** A criterion's field path as a label: `buying_committee.decision_maker` → "Decision maker on the buying committee". */
export function criterionLabel(t: TFunction, field: string): string {
  const [head, ...rest] = field.split(".");
  const tail = rest.join(".");
  if (head === "buying_committee" && tail) {
    return t("pipeline.criteria.role", { role: t(`pipeline.roles.${tail}`, { defaultValue: tail }) });
  }
  if (head === "custom_fields" && tail) return t("pipeline.criteria.customField", { key: tail });
  return t(`pipeline.criteria.${field}`, { defaultValue: field });
}

/** The missing criteria of an exit-criteria refusal, as labels; undefined for other problems. */
export function missingCriteria(t: TFunction, problem: Problem): string[] | undefined {
  if (problem.reason !== EXIT_CRITERIA_NOT_MET) return undefined;
  return problem.fieldViolations.map((violation) => criterionLabel(t, violation.field));
}
