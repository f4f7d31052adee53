import { useId, useState, type FormEvent } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePagedList } from "../ui/usePagedList";
import { Highlighted } from "./highlight";

/**
 * The sales toolkit (K1, K2): a search over every article in English and Chinese, ranked by
 * the knowledge service; without a query, the articles most recently changed first.
 */
export function KnowledgePage() {
  const { t } = useTranslation();
  const [search, setSearch] = useSearchParams();
  const asked = search.get("q") ?? "";
  const [text, setText] = useState(asked);
  const inputId = useId();
  function submit(event: FormEvent) {
    event.preventDefault();
    setSearch(text.trim() ? { q: text.trim() } : {});
  }
  return (
    <div className="page">
      <PageHeader title={t("knowledge.title")} />
      <form className="toolbar search-form" role="search" onSubmit={submit}>
        <label htmlFor={inputId} className="visually-hidden">
          {t("knowledge.searchLabel")}
        </label>
        <input
          id={inputId}
          type="search"
          value={text}
          placeholder={t("knowledge.searchPlaceholder")}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" className="button button-primary">
          {t("knowledge.search")}
        </button>
      </form>
      <div className="panel">{asked ? <SearchResults query={asked} /> : <RecentArticles />}</div>
    </div>
  );
}

function SearchResults({ query }: { query: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const results = useQuery({
    queryKey: ["articles", "search", query],
    queryFn: () => data(api.GET("/v1/knowledge/search", { params: { query: { query, limit: 20 } } })),
  });
  return (
    <QueryView
      query={results}
      isEmpty={(answer) => (answer.hits ?? []).length === 0}
      empty={<EmptyState title={t("knowledge.noHits", { query })} hint={t("knowledge.noHitsHint")} />}
    >
      {(answer) => (
        <ol className="plain-list search-hits" aria-label={t("knowledge.results", { query })}>
          {(answer.hits ?? []).map((hit) => (
            <li key={hit.article_id} className="list-row">
              <div className="list-row-main">
                <Link to={`/knowledge/articles/${hit.article_id ?? ""}`} className="list-row-title">
                  <Highlighted html={hit.title_html} />
                </Link>
                <span className="list-row-note">
                  <Highlighted html={hit.snippet_html} />
                </span>
              </div>
              <span className="badge">{t(`enums.articleKind.${hit.kind ?? "ARTICLE_KIND_UNSPECIFIED"}`)}</span>
            </li>
          ))}
        </ol>
      )}
    </QueryView>
  );
}

function RecentArticles() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const paging = usePagedList();
  const query = useQuery({
    queryKey: ["articles", "list", paging.pageToken],
    queryFn: () =>
      data(
        api.GET("/v1/knowledge/articles", {
          params: { query: { "page.page_size": 25, ...(paging.pageToken ? { "page.page_token": paging.pageToken } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  return (
    <QueryView
      query={query}
      isEmpty={(answer) => (answer.articles ?? []).length === 0}
      empty={<EmptyState title={t("knowledge.empty")} hint={t("knowledge.emptyHint")} />}
    >
      {(answer) => (
        <>
          <ul className="plain-list">
            {(answer.articles ?? []).map((article) => {
              const version = article.version;
              return (
                <li key={article.article_id} className="list-row">
                  <div className="list-row-main">
                    <Link to={`/knowledge/articles/${article.article_id ?? ""}`} className="list-row-title">
                      {version?.content?.title}
                    </Link>
                    <span className="list-row-note">{version?.content?.summary}</span>
                  </div>
                  <span className="badge">{t(`enums.articleKind.${version?.content?.kind ?? "ARTICLE_KIND_UNSPECIFIED"}`)}</span>
                  {version?.status !== "VERSION_STATUS_PUBLISHED" && (
                    <span className="badge badge-warning">
                      {t(`enums.versionStatus.${version?.status ?? "VERSION_STATUS_UNSPECIFIED"}`)}
                    </span>
                  )}
                  <span className="list-row-note">{format.instantDay(article.updated_at)}</span>
                </li>
              );
            })}
          </ul>
          <Pager paging={paging} nextPageToken={answer.page?.next_page_token} busy={query.isFetching} />
        </>
      )}
    </QueryView>
  );
}
