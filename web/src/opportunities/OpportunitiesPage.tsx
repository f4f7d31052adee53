import { useId, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { data } from "../api/client";
import type { Opportunity } from "../api/types";
import { useApi } from "../session/SessionContext";
import { PageHeader } from "../ui/PageHeader";
import { Pager } from "../ui/Pager";
import { EmptyState } from "../ui/states";
import { QueryView } from "../ui/QueryView";
import { usePagedList } from "../ui/usePagedList";
import { DealTable } from "./DealTable";

const STATUSES = ["OPPORTUNITY_STATUS_OPEN", "OPPORTUNITY_STATUS_WON", "OPPORTUNITY_STATUS_LOST"] as const;
type Status = (typeof STATUSES)[number] | "";

/** The deals the caller may see (O2), soonest expected close first. */
export function OpportunitiesPage() {
  const { t } = useTranslation();
  const api = useApi();
  const statusId = useId();
  const [status, setStatus] = useState<Status>("OPPORTUNITY_STATUS_OPEN");
  const paging = usePagedList();
  const query = useQuery({
    queryKey: ["opportunities", "list", status, paging.pageToken],
    queryFn: () =>
      data(
        api.GET("/v1/opportunities", {
          params: {
            query: {
              ...(status ? { status } : {}),
              sort_by: "OPPORTUNITY_SORT_FIELD_EXPECTED_CLOSE_DATE",
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
        title={t("deals.title")}
        actions={
          <div className="toolbar">
            <label htmlFor={statusId}>{t("deals.status")}</label>
            <select
              id={statusId}
              value={status}
              onChange={(event) => {
                setStatus(event.target.value as Status);
                paging.reset();
              }}
            >
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {t(`enums.opportunityStatus.${value}`)}
                </option>
              ))}
              <option value="">{t("deals.allStatuses")}</option>
            </select>
          </div>
        }
      />
      <div className="panel">
        <QueryView
          query={query}
          isEmpty={(answer) => (answer.opportunities ?? []).length === 0}
          empty={<EmptyState title={t("deals.empty")} hint={t("deals.emptyHint")} />}
        >
          {(answer) => (
            <>
              <DealTable deals={answer.opportunities ?? ([] as Opportunity[])} caption={t("deals.title")} />
              <Pager paging={paging} nextPageToken={answer.page?.next_page_token} busy={query.isFetching} />
            </>
          )}
        </QueryView>
      </div>
    </div>
  );
}
