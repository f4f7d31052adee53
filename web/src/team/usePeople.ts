import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { data } from "../api/client";
import { useApi } from "../session/SessionContext";

/** Names of the users the caller may see, by id: the forecasting and funnel answers carry ids. */
export function usePeople() {
  const api = useApi();
  const query = useQuery({
    queryKey: ["users"],
    queryFn: () => data(api.GET("/v1/users")),
    staleTime: 10 * 60_000,
  });
  return useMemo(() => {
    const names = new Map((query.data?.users ?? []).map((user) => [user.id ?? "", user.display_name ?? ""]));
    return (userId: string | undefined) => names.get(userId ?? "") || userId || "";
  }, [query.data]);
}
