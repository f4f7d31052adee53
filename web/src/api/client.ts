// The typed API client: openapi-fetch over the generated schema, with the session's bearer
// token on every call and one refresh-and-retry on a 401 (an access token can expire between
// the session's scheduled refreshes, e.g. while the laptop slept).
import createClient, { type Middleware } from "openapi-fetch";
import { ApiError, networkProblem, parseProblem } from "./problem";
import type { paths } from "./schema";

/** What the client needs of the session (session/session.ts). */
export interface TokenSource {
  freshAccessToken(): Promise<string | undefined>;
  refreshAfterUnauthorized(sentToken: string | undefined): Promise<string | null>;
}

function bearer(request: Request): string | undefined {
  const header = request.headers.get("Authorization");
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
}

export function authMiddleware(tokens: TokenSource): Middleware {
  // A copy of each request as sent, by the client's request id: the sent one's body is spent.
  const unsent = new Map<string, Request>();
  return {
    async onRequest({ request, id }) {
      const token = await tokens.freshAccessToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      unsent.set(id, request.clone());
      return request;
    },
    async onResponse({ request, response, id, options }) {
      const retry = unsent.get(id);
      unsent.delete(id);
      if (response.status !== 401 || !retry) return undefined;
      const token = await tokens.refreshAfterUnauthorized(bearer(request));
      if (!token) return undefined; // Signed out: the 401 stands, the session says so.
      retry.headers.set("Authorization", `Bearer ${token}`);
      return options.fetch(retry); // Once: whatever this answers is the answer.
    },
    onError({ id }) {
      unsent.delete(id);
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(tokens: TokenSource, fetchImpl?: typeof fetch) {
  const client = createClient<paths>({
    // Absolute, so that the same code runs in the page and under Node's fetch in tests.
    baseUrl: globalThis.location?.origin ?? "",
    fetch: fetchImpl ?? ((request: Request) => globalThis.fetch(request)),
  });
  client.use(authMiddleware(tokens));
  return client;
}

interface FetchResult<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/**
 * The data of a call, or an ApiError with the parsed problem. Every query and mutation goes
 * through this, so the rest of the app sees either data or a Problem, never a raw response.
 */
export async function data<D>(call: Promise<FetchResult<D>>): Promise<NonNullable<D>> {
  let result: FetchResult<D>;
  try {
    result = await call;
  } catch (error) {
    throw new ApiError(networkProblem(error));
  }
  const { response } = result;
  if (!response.ok) throw new ApiError(parseProblem(result.error, response));
  // Every successful answer of the API is a JSON object (an empty one for "nothing to say").
  return (result.data ?? {}) as NonNullable<D>;
}

/** A key for the Idempotency-Key header of a write, so that a retried click is applied once. */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
