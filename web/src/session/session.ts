// The console's session (the gateway's cookie mode, ADR 0017): the refresh token is an
// HttpOnly cookie the page never sees; the short-lived access token lives in this object's
// memory only — never in localStorage or sessionStorage, where an injected script could read it.
//
// The three auth calls use plain fetch: in cookie mode their bodies differ from what the
// OpenAPI document describes (no refresh token in or out). Every other call goes through the
// typed client, whose middleware asks this object for the token (see api/client.ts).
import { networkProblem, problemFromResponse, type Problem } from "../api/problem";
import type { User } from "../api/types";

export type SessionState =
  | { status: "restoring"; problem?: Problem }
  | { status: "signed-out"; reason: "initial" | "expired" | "signed-out" }
  | { status: "signed-in"; user: User };

export type LoginResult = { ok: true; user: User } | { ok: false; problem: Problem };

type RefreshOutcome =
  | { kind: "ok"; token: string }
  | { kind: "unauthenticated" }
  | { kind: "unavailable"; problem: Problem };

interface Tokens {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Tells the other tabs of this origin that the user signed in or out. */
interface Channel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

export interface SessionOptions {
  /** Who the token belongs to, after a reload (GetMe through the typed client). */
  loadUser: () => Promise<User>;
  fetch?: typeof fetch;
  /** Serialises refreshes across tabs: two tabs presenting the same refresh cookie at once
   * would look like token reuse to the gateway, which then revokes the whole session. */
  locks?: Pick<LockManager, "request">;
  channel?: Channel;
}

/** Refresh this long before the access token expires. */
export const REFRESH_LEAD_MS = 60_000;
/** After a refresh that failed for an outage, try again this soon (or sooner, near expiry). */
const RETRY_MS = 15_000;
const SESSION_HEADERS = { "Content-Type": "application/json", "X-CRM-Session": "cookie" };

/** When to refresh a token that lives `ttl` ms: a minute early, or halfway for short ones. */
export function refreshDelay(ttl: number): number {
  return Math.max(0, ttl > 2 * REFRESH_LEAD_MS ? ttl - REFRESH_LEAD_MS : ttl / 2);
}

export class Session {
  private state: SessionState = { status: "restoring" };
  private tokens: Tokens | undefined;
  private refreshing: Promise<RefreshOutcome> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly fetch: typeof fetch;

  constructor(private readonly options: SessionOptions) {
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    options.channel?.addEventListener("message", (event) => this.onPeerMessage(event.data));
  }

  // Arrow properties: stable references for React's useSyncExternalStore.
  readonly getState = (): SessionState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The access token, refreshed first when it is about to expire (a tab that slept). */
  async freshAccessToken(): Promise<string | undefined> {
    const tokens = this.tokens;
    if (!tokens) return undefined;
    if (Date.now() < tokens.expiresAt - 5_000) return tokens.accessToken;
    return (await this.refresh()) ?? undefined;
  }

  /** On page load: the cookie, if any, gives a new access token; then who it belongs to. */
  async restore(): Promise<void> {
    const outcome = await this.refreshOutcome();
    if (outcome.kind === "unauthenticated") return;
    if (outcome.kind === "unavailable") {
      this.setState({ status: "restoring", problem: outcome.problem });
      const wait = (outcome.problem.retryAfterSeconds ?? 2) * 1000;
      await new Promise((resolve) => setTimeout(resolve, wait));
      return this.restore();
    }
    try {
      const user = await this.options.loadUser();
      this.setState({ status: "signed-in", user });
    } catch {
      // A token whose user cannot be read is no session to work in.
      this.clear({ status: "signed-out", reason: "expired" });
    }
  }

  async login(email: string, password: string): Promise<LoginResult> {
    let response: Response;
    try {
      response = await this.fetch("/v1/auth:login", {
        method: "POST",
        headers: SESSION_HEADERS,
        credentials: "same-origin",
        body: JSON.stringify({ email, password }),
      });
    } catch (error) {
      return { ok: false, problem: networkProblem(error) };
    }
    if (!response.ok) return { ok: false, problem: await problemFromResponse(response) };
    const body = (await readJson(response)) as { tokens?: TokenBody; user?: User };
    if (!this.accept(body.tokens) || !body.user) {
      return { ok: false, problem: networkProblem(new Error("the sign-in answer had no token")) };
    }
    this.setState({ status: "signed-in", user: body.user });
    this.options.channel?.postMessage({ type: "signed-in" });
    return { ok: true, user: body.user };
  }

  /** A new access token (null: signed out, or the gateway unreachable). One at a time. */
  async refresh(): Promise<string | null> {
    const outcome = await this.refreshOutcome();
    return outcome.kind === "ok" ? outcome.token : null;
  }

  /**
   * After a 401 for a call sent with `sentToken`: the token to retry it with, or null. When
   * another call has refreshed meanwhile its token is used; otherwise this refreshes, sharing
   * the refresh already in flight.
   */
  async refreshAfterUnauthorized(sentToken: string | undefined): Promise<string | null> {
    const current = this.tokens?.accessToken;
    if (current && current !== sentToken) return current;
    return this.refresh();
  }

  async logout(): Promise<void> {
    try {
      await this.fetch("/v1/auth:logout", {
        method: "POST",
        headers: SESSION_HEADERS,
        credentials: "same-origin",
        body: "{}",
      });
    } catch {
      // Signed out here either way; the cookie expires on its own.
    }
    this.clear({ status: "signed-out", reason: "signed-out" });
    this.options.channel?.postMessage({ type: "signed-out" });
  }

  private refreshOutcome(): Promise<RefreshOutcome> {
    if (this.refreshing) return this.refreshing;
    const run = () => this.callRefresh();
    const locks = this.options.locks;
    // Awaited: the lock's promise settles with what `run` settles with.
    const pending = locks ? Promise.resolve(locks.request("crm-session-refresh", run)) : run();
    const shared = pending.finally(() => {
      this.refreshing = undefined;
    });
    this.refreshing = shared;
    return shared;
  }

  private async callRefresh(): Promise<RefreshOutcome> {
    let response: Response;
    try {
      response = await this.fetch("/v1/auth:refresh", {
        method: "POST",
        headers: SESSION_HEADERS,
        credentials: "same-origin",
        body: "{}",
      });
    } catch (error) {
      return this.unavailable(networkProblem(error));
    }
    if (response.status === 401 || response.status === 400) {
      // No cookie, or one the gateway refused (expired, revoked, reused): signed out.
      const wasSignedIn = this.state.status === "signed-in";
      this.clear({ status: "signed-out", reason: wasSignedIn ? "expired" : "initial" });
      return { kind: "unauthenticated" };
    }
    if (!response.ok) return this.unavailable(await problemFromResponse(response));
    const body = (await readJson(response)) as { tokens?: TokenBody };
    if (!this.accept(body.tokens)) {
      return this.unavailable(networkProblem(new Error("the refresh answer had no token")));
    }
    return { kind: "ok", token: this.tokens!.accessToken };
  }

  /** An outage is not a sign-out: keep the session and try again before the token runs out. */
  private unavailable(problem: Problem): RefreshOutcome {
    if (this.tokens) {
      const left = this.tokens.expiresAt - Date.now();
      if (left > 0) this.schedule(Math.min(RETRY_MS, left / 2));
    }
    return { kind: "unavailable", problem };
  }

  private accept(tokens: TokenBody | undefined): boolean {
    const expiresAt = tokens?.access_expires_at ? Date.parse(tokens.access_expires_at) : NaN;
    if (!tokens?.access_token || Number.isNaN(expiresAt)) return false;
    this.tokens = { accessToken: tokens.access_token, expiresAt };
    this.schedule(refreshDelay(expiresAt - Date.now()));
    return true;
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delay);
  }

  private clear(next: SessionState): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.tokens = undefined;
    this.setState(next);
  }

  private onPeerMessage(message: unknown): void {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === "signed-out" && this.state.status === "signed-in") {
      this.clear({ status: "signed-out", reason: "signed-out" });
    } else if (type === "signed-in" && this.state.status === "signed-out") {
      void this.restore();
    }
  }

  private setState(next: SessionState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}

/** A success's JSON body; an unreadable one is treated like one without tokens. */
async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

interface TokenBody {
  access_token?: string;
  access_expires_at?: string;
}
