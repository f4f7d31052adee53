// How data views retry: outages (503) and throttling (429) are retried after the Retry-After
// the gateway sends; a lost connection with a growing pause; anything else is an answer
// (a 404 stays a 404), shown at once.
import { QueryClient } from "@tanstack/react-query";
import { ApiError, isTransient } from "../api/problem";

/** Attempts after the first, for transient failures. 503's Retry-After is 2 s: ~20 s in all. */
export const TRANSIENT_RETRIES = 8;

export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiError) {
    return isTransient(error.problem) && failureCount < TRANSIENT_RETRIES;
  }
  return failureCount < 1; // A bug of ours (a parse error): once more, then show it.
}

export function retryDelay(failureCount: number, error: unknown): number {
  const seconds = error instanceof ApiError ? error.problem.retryAfterSeconds : undefined;
  if (seconds !== undefined) return Math.max(1, seconds) * 1000;
  return Math.min(30_000, 1000 * 2 ** failureCount);
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        retryDelay,
        // Figures change as deals move; a minute old is fresh enough for a glance.
        staleTime: 60_000,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
