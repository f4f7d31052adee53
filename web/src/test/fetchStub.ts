// A stand-in for the network in unit tests: answers by method and path, and records calls.
import { vi } from "vitest";

export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

type Answer = Response | (() => Response | Promise<Response>);

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(status: number, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({
      type: "urn:crm:problem:test",
      title: "Test",
      status,
      detail: `problem ${status}`,
      code: "TEST",
      request_id: "req-1",
      ...fields,
    }),
    { status, headers: { "Content-Type": "application/problem+json", ...headers } },
  );
}

/**
 * `routes` maps "METHOD /path" to answers, used in turn (the last one repeats). A call with no
 * route fails the test loudly rather than hang.
 */
export function stubFetch(routes: Record<string, Answer[]>) {
  const calls: Recorded[] = [];
  const used: Record<string, number> = {};
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), "http://console.test"), init);
    const url = new URL(request.url);
    const key = `${request.method} ${url.pathname}`;
    calls.push({ method: request.method, path: url.pathname + url.search, headers: request.headers, body: await request.text() });
    const answers = routes[key];
    if (!answers || answers.length === 0) throw new Error(`no stubbed answer for ${key}`);
    const index = Math.min(used[key] ?? 0, answers.length - 1);
    used[key] = (used[key] ?? 0) + 1;
    const answer = answers[index]!;
    const response = typeof answer === "function" ? await answer() : answer;
    return response.clone();
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

/** Tokens as the gateway's cookie mode answers them: no refresh token in the body. */
export function tokens(accessToken: string, ttlMs: number, now = Date.now()) {
  return { tokens: { access_token: accessToken, access_expires_at: new Date(now + ttlMs).toISOString() } };
}

export const REP = {
  id: "01900000-0000-7000-8000-0000000000a1",
  display_name: "Li Na",
  email: "li.na@example.com",
  role: "ROLE_REP" as const,
  team_path: "/acme/east/",
};
