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
import { leadName } from "./leadName";
import { TableScroll } from "../ui/TableScroll";

type View = "mine" | "pool" | "duplicates";
const STATUSES = [
  "LEAD_STATUS_NEW",
  "LEAD_STATUS_ASSIGNED",
  "LEAD_STATUS_WORKING",
  "LEAD_STATUS_QUALIFIED",
  "LEAD_STATUS_DISQUALIFIED",
  "LEAD_STATUS_CONVERTED",
] as const;
type Status = (typeof STATUSES)[number] | "";
type Sort = "LEAD_SORT_FIELD_SCORE" | "LEAD_SORT_FIELD_CREATED_AT";

/**
 * The leads the caller may see (L3, L6): their own, the claimable pool, or those flagged as
 * possible duplicates; by status, best score or newest first, paged.
 */
export function LeadsPage() {
  const { t } = useTranslation();
  const format = useFormat();
  const api = useApi();
  const viewId = useId();
  const statusId = useId();
  const sortId = useId();
  const [view, setView] = useState<View>("mine");
  const [status, setStatus] = useState<Status>("");
  const [sort, setSort] = useState<Sort>("LEAD_SORT_FIELD_SCORE");
  const paging = usePagedList();
  const query = useQuery({
    queryKey: ["leads", "list", view, status, sort, paging.pageToken],
    queryFn: () =>
      data(
        api.GET("/v1/leads", {
          params: {
            query: {
              ...(view === "pool" ? { in_pool: true } : {}),
              ...(view === "duplicates" ? { flagged_duplicates_only: true } : {}),
              ...(status ? { status } : {}),
              sort_by: sort,
              sort_direction: "SORT_DIRECTION_DESCENDING",
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
        title={t("leads.title")}
        actions={
          <div className="toolbar">
            <label htmlFor={viewId}>{t("leads.view")}</label>
            <select
              id={viewId}
              value={view}
              onChange={(event) => {
                setView(event.target.value as View);
                paging.reset(); // A page token belongs to the listing that made it.
              }}
            >
              <option value="mine">{t("leads.viewMine")}</option>
              <option value="pool">{t("leads.viewPool")}</option>
              <option value="duplicates">{t("leads.viewDuplicates")}</option>
            </select>
            <label htmlFor={statusId}>{t("leads.status")}</label>
            <select
              id={statusId}
              value={status}
              onChange={(event) => {
                setStatus(event.target.value as Status);
                paging.reset();
              }}
            >
              <option value="">{t("leads.anyStatus")}</option>
              {STATUSES.map((known) => (
                <option key={known} value={known}>
                  {t(`enums.leadStatus.${known}`)}
                </option>
              ))}
            </select>
            <label htmlFor={sortId}>{t("leads.sort")}</label>
            <select
              id={sortId}
              value={sort}
              onChange={(event) => {
                setSort(event.target.value as Sort);
                paging.reset();
              }}
            >
              <option value="LEAD_SORT_FIELD_SCORE">{t("leads.sortScore")}</option>
              <option value="LEAD_SORT_FIELD_CREATED_AT">{t("leads.sortNewest")}</option>
            </select>
          </div>
        }
      />
      <div className="panel">
        <QueryView
          query={query}
          isEmpty={(answer) => (answer.leads ?? []).length === 0}
          empty={<EmptyState title={t("leads.empty")} hint={t(view === "pool" ? "leads.emptyPoolHint" : "leads.emptyHint")} />}
        >
          {(answer) => (
            <>
              <TableScroll label={t("leads.title")}>
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">{t("leads.name")}</th>
                      <th scope="col">{t("leads.company")}</th>
                      <th scope="col">{t("leads.status")}</th>
                      <th scope="col" className="num">{t("leads.score")}</th>
                      <th scope="col">{t("leads.created")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(answer.leads ?? []).map((lead) => (
                      <tr key={lead.id}>
                        <th scope="row">
                          <Link to={`/leads/${lead.id ?? ""}`}>{leadName(lead) || t("leads.unnamed")}</Link>
                        </th>
                        <td>{lead.company}</td>
                        <td>{t(`enums.leadStatus.${lead.status ?? "LEAD_STATUS_UNSPECIFIED"}`)}</td>
                        <td className="num">{lead.score?.total ?? 0}</td>
                        <td>{format.instantDay(lead.created_at)}</td>
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
