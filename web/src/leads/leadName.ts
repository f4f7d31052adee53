import type { Lead } from "../api/types";

/** A lead as people call it: the person's name, else how to reach them. */
export function leadName(lead: Lead): string {
  return [lead.first_name, lead.last_name].filter(Boolean).join(" ") || lead.email || lead.phone || lead.company || "";
}
