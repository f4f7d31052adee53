import { useMutation, useQueryClient } from "@tanstack/react-query";
import { data, idempotencyKey, type ApiClient } from "../api/client";
import type { Money } from "../api/types";
import type { MoneyLike } from "../format/money";
import { useApi } from "../session/SessionContext";

/** The one-click steps of a lead's life (L3–L5): no input but the lead. */
export type LeadCommand = "claim" | "qualify" | "release";

function send(api: ApiClient, command: LeadCommand, leadId: string) {
  const params = { path: { lead_id: leadId }, header: { "Idempotency-Key": idempotencyKey() } };
  switch (command) {
    case "claim":
      return data(api.POST("/v1/leads/{lead_id}:claim", { params, body: {} }));
    case "qualify":
      return data(api.POST("/v1/leads/{lead_id}:qualify", { params, body: {} }));
    case "release":
      return data(api.POST("/v1/leads/{lead_id}:release", { params, body: {} }));
  }
}

/** Runs a lead command, then reads every lead list and the lead again. */
export function useLeadCommand(command: LeadCommand) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (leadId: string) => send(api, command, leadId),
    onSuccess: (_answer, leadId) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["leads"] }),
        queryClient.invalidateQueries({ queryKey: ["lead", leadId] }),
      ]),
  });
}

export interface Conversion {
  leadId: string;
  opportunityName: string;
  amount?: MoneyLike;
  expectedCloseDate?: string;
}

/** Converts a qualified lead (L6) into an account, a contact and a deal. */
export function useConvertLead() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ leadId, opportunityName, amount, expectedCloseDate }: Conversion) =>
      data(
        api.POST("/v1/leads/{lead_id}:convert", {
          params: { path: { lead_id: leadId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            opportunity_name: opportunityName,
            // The currency code is checked by the service (ISO 4217), not by the type.
            ...(amount ? { opportunity_amount: amount as Money } : {}),
            ...(expectedCloseDate ? { expected_close_date: expectedCloseDate } : {}),
          },
        }),
      ),
    onSuccess: (_answer, { leadId }) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["leads"] }),
        queryClient.invalidateQueries({ queryKey: ["lead", leadId] }),
        queryClient.invalidateQueries({ queryKey: ["opportunities"] }),
      ]),
  });
}
