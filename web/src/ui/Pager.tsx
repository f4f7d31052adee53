import { useTranslation } from "react-i18next";

interface PagerProps {
  /** How many pages back from the first (0: the first page). */
  pageIndex: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  busy?: boolean;
}

/** Cursor paging: the API hands out next-page tokens only, so "previous" walks back a stack. */
export function Pager({ pageIndex, hasNext, onPrevious, onNext, busy }: PagerProps) {
  const { t } = useTranslation();
  if (pageIndex === 0 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={t("pager.label")}>
      <button type="button" className="button button-secondary" onClick={onPrevious} disabled={pageIndex === 0 || busy}>
        {t("pager.previous")}
      </button>
      <span className="pager-page">{t("pager.page", { page: pageIndex + 1 })}</span>
      <button type="button" className="button button-secondary" onClick={onNext} disabled={!hasNext || busy}>
        {t("pager.next")}
      </button>
    </nav>
  );
}
