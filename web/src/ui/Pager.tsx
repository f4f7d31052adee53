import { useTranslation } from "react-i18next";
import type { usePagedList } from "./usePagedList";

interface PagerProps {
  /** The list's page tokens (`usePagedList`). */
  paging: ReturnType<typeof usePagedList>;
  /** The page's `next_page_token`: empty on the last page. */
  nextPageToken: string | undefined;
  busy?: boolean;
}

/** Cursor paging: the API hands out next-page tokens only, so "previous" walks back a stack. */
export function Pager({ paging, nextPageToken, busy }: PagerProps) {
  const { t } = useTranslation();
  const hasNext = Boolean(nextPageToken);
  if (paging.pageIndex === 0 && !hasNext) return null;
  return (
    <nav className="pager" aria-label={t("pager.label")}>
      <button
        type="button"
        className="button button-secondary"
        onClick={paging.previous}
        disabled={paging.pageIndex === 0 || busy}
      >
        {t("pager.previous")}
      </button>
      <span className="pager-page">{t("pager.page", { page: paging.pageIndex + 1 })}</span>
      <button
        type="button"
        className="button button-secondary"
        onClick={() => paging.next(nextPageToken)}
        disabled={!hasNext || busy}
      >
        {t("pager.next")}
      </button>
    </nav>
  );
}
