import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { data } from "../api/client";
import { useApi } from "../session/SessionContext";

/** Teams' names by path (`/northwind/east/` → "East"): the forecasting answers carry paths. */
export function useTeamNames() {
  const api = useApi();
  const query = useQuery({
    queryKey: ["teams"],
    queryFn: () => data(api.GET("/v1/teams")),
    staleTime: 10 * 60_000,
  });
  // One function while the teams stay the same, so charts built with it are not rebuilt.
  return useMemo(() => {
    const names = new Map((query.data?.teams ?? []).map((team) => [team.path ?? "", team.name ?? ""]));
    return (path: string | undefined) => names.get(path ?? "") || path || "";
  }, [query.data]);
}
