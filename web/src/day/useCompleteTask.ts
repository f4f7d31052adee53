import { useMutation, useQueryClient } from "@tanstack/react-query";
import { data, idempotencyKey } from "../api/client";
import { useApi } from "../session/SessionContext";

/** Marks a task done, then refreshes the lists it appears in. */
export function useCompleteTask() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) =>
      data(
        api.POST("/v1/tasks/{task_id}:complete", {
          params: { path: { task_id: taskId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["calendar"] }),
        queryClient.invalidateQueries({ queryKey: ["tasks"] }),
      ]),
  });
}
