import type { ReactNode } from "react";
import type { UseQueryResult } from "@tanstack/react-query";
import { ApiError, isTransient, networkProblem, type Problem } from "../api/problem";
import { ErrorState, LoadingState, RetryingState } from "./states";

function asProblem(error: unknown): Problem {
  return error instanceof ApiError ? error.problem : networkProblem(error);
}

interface QueryViewProps<T> {
  query: UseQueryResult<T>;
  /** Whether the answer holds nothing to show (then `empty` is shown). */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  /** A problem that is an answer rather than a failure (a rep on no plan): shown instead. */
  expected?: (problem: Problem) => ReactNode | undefined;
  children: (data: T) => ReactNode;
}

/** Every data view's four states: loading (or retrying an outage), error, empty, data. */
export function QueryView<T>({ query, isEmpty, empty, expected, children }: QueryViewProps<T>) {
  if (query.isPending) {
    const failure = query.failureReason ? asProblem(query.failureReason) : undefined;
    if (failure && isTransient(failure)) return <RetryingState problem={failure} />;
    return <LoadingState />;
  }
  if (query.isError) {
    const problem = asProblem(query.error);
    const answer = expected?.(problem);
    if (answer) return <>{answer}</>;
    return <ErrorState problem={problem} onRetry={() => void query.refetch()} />;
  }
  if (isEmpty?.(query.data)) return <>{empty}</>;
  return <>{children(query.data)}</>;
}
