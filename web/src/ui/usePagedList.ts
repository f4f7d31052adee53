import { useState } from "react";

/**
 * Page tokens for a cursor-paged list. Tokens are bound to the sort and filters they were made
 * for (docs/api.md, Paging): changing either must start from the first page again — `reset`.
 */
export function usePagedList() {
  const [tokens, setTokens] = useState<string[]>([""]);
  const pageIndex = tokens.length - 1;
  return {
    pageIndex,
    pageToken: tokens[pageIndex] ?? "",
    next: (token: string | undefined) => {
      if (token) setTokens((stack) => [...stack, token]);
    },
    previous: () => setTokens((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)),
    reset: () => setTokens([""]),
  };
}
