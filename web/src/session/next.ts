// Where to go after signing in: the page the user was on, carried in `?next=`. Only a path of
// this origin is taken, so a crafted link cannot send a fresh session to another site.
import type { Role } from "../api/types";

export function safeNext(next: string | null | undefined): string | undefined {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return undefined;
  if (next === "/signin" || next.startsWith("/signin?")) return undefined;
  return next;
}

export function signInPath(from?: string): string {
  const next = safeNext(from);
  return next && next !== "/" ? `/signin?next=${encodeURIComponent(next)}` : "/signin";
}

/** The first page after sign-in: a rep's day; a manager's team. */
export function landingPath(role: Role | undefined): string {
  return role === "ROLE_MANAGER" ? "/team" : "/day";
}
