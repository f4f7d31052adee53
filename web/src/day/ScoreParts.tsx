import { useTranslation } from "react-i18next";
import type { ScorePart } from "../api/types";
import { isDecimal } from "../format/decimal";
import { useFormat } from "../format/useFormat";
import { localize } from "../i18n/localizable";

/** The parts' order and shades on the bar: the same for every deal, so rows compare at a glance. */
const PART_ORDER = ["probability", "amount", "closeness", "staleness"];

function width(points: string | undefined): string {
  return `${points && isDecimal(points) ? Math.max(0, Number(points)) : 0}%`;
}

/** A deal's priority score and what it is made of (O9): the ranking explains itself. */
export function ScoreParts({ score, parts }: { score: string | undefined; parts: ScorePart[] }) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const ordered = [...parts].sort((a, b) => PART_ORDER.indexOf(a.name ?? "") - PART_ORDER.indexOf(b.name ?? ""));
  return (
    <details className="score">
      <summary>
        <span className="score-value">{format.decimal(score) || "0"}</span>
        <span className="score-bar" aria-hidden="true">
          {ordered.map((part) => (
            <span key={part.name} className={`score-bar-part score-part-${part.name}`} style={{ width: width(part.points) }} />
          ))}
        </span>
        <span className="visually-hidden">{t("day.board.showParts")}</span>
      </summary>
      <ul className="score-parts">
        {ordered.map((part) => (
          <li key={part.name}>
            <span className={`score-swatch score-part-${part.name}`} aria-hidden="true" />
            <span className="score-part-name">{t(`day.board.parts.${part.name ?? "unknown"}`, part.name ?? "")}</span>
            <span className="score-part-points">{t("day.board.points", { points: format.decimal(part.points) })}</span>
            <span className="score-part-why">{localize(i18n, part.explanation)}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
