import { useMutation, useQueryClient } from "@tanstack/react-query";
import { data } from "../api/client";
import type { Opportunity } from "../api/types";
import { useApi } from "../session/SessionContext";

export interface Move {
  deal: Opportunity;
  stageId: string;
}

/**
 * Moves a deal to a stage (ChangeStage) at the version the board showed, so a move made on a
 * stale board is refused (ABORTED) rather than applied over someone else's change; afterwards
 * every list, board and number that shows deals is read again.
 */
export function useMoveDeal() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ deal, stageId }: Move) =>
      data(
        api.POST("/v1/opportunities/{opportunity_id}:changeStage", {
          params: { path: { opportunity_id: deal.id ?? "" } },
          body: { stage_id: stageId, ...(deal.version !== undefined ? { expected_version: deal.version } : {}) },
        }),
      ),
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["opportunities"] }),
        queryClient.invalidateQueries({ queryKey: ["priorityBoard"] }),
      ]),
  });
}
