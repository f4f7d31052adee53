import { useId, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import { useFormat } from "../format/useFormat";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePagedList } from "../ui/usePagedList";
import { TableScroll } from "../ui/TableScroll";

/** The accounts the caller may see (A1), by name, with a name search. */
export function AccountsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const searchId = useId();
  const [search, setSearch] = useState("");
  const [applied, setApplied] = useState("");
  const paging = usePagedList();
  const query = useQuery({
    queryKey: ["accounts", "list", applied, paging.pageToken],
    queryFn: () =>
      data(
        api.GET("/v1/accounts", {
          params: {
            query: {
              ...(applied ? { name_contains: applied } : {}),
              sort_by: "ACCOUNT_SORT_FIELD_NAME",
              sort_direction: "SORT_DIRECTION_ASCENDING",
              "page.page_size": 25,
              ...(paging.pageToken ? { "page.page_token": paging.pageToken } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="page">
      <PageHeader
        title={t("accounts.title")}
        actions={
          <form
            className="toolbar"
            role="search"
            onSubmit={(event) => {
              event.preventDefault();
              setApplied(search.trim());
              paging.reset();
            }}
          >
            <label htmlFor={searchId}>{t("accounts.search")}</label>
            <input id={searchId} type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
            <button type="submit" className="button button-secondary">
              {t("accounts.searchButton")}
            </button>
          </form>
        }
      />
      <div className="panel">
        <QueryView
          query={query}
          isEmpty={(answer) => (answer.accounts ?? []).length === 0}
          empty={<EmptyState title={applied ? t("accounts.noMatch", { search: applied }) : t("accounts.empty")} hint={t("accounts.emptyHint")} />}
        >
          {(answer) => (
            <>
              <TableScroll label={t("accounts.title")}>
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">{t("accounts.name")}</th>
                      <th scope="col">{t("accounts.industry")}</th>
                      <th scope="col">{t("accounts.region")}</th>
                      <th scope="col">{t("accounts.tier")}</th>
                      <th scope="col" className="num">{t("accounts.trailingRevenue")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(answer.accounts ?? []).map((account) => (
                      <tr key={account.id}>
                        <th scope="row">
                          <Link to={`/accounts/${account.id ?? ""}`}>{account.name}</Link>
                          {account.key_account && <span className="badge badge-accent">{t("accounts.key")}</span>}
                        </th>
                        <td>{account.industry}</td>
                        <td>{account.region}</td>
                        <td>{t(`enums.accountTier.${account.tier ?? "ACCOUNT_TIER_UNSPECIFIED"}`)}</td>
                        <td className="num">{format.money(account.trailing_won_revenue) || "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <Pager paging={paging} nextPageToken={answer.page?.next_page_token} busy={query.isFetching} />
            </>
          )}
        </QueryView>
      </div>
    </div>
  );
}
