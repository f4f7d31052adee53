// The console's navigation, by role.
import type { Role } from "../api/types";

export interface NavItem {
  to: string;
  /** A key under `nav.` in the translations. */
  label: string;
  roles: readonly Role[];
}

const EVERYONE: readonly Role[] = ["ROLE_REP", "ROLE_MANAGER", "ROLE_ADMIN"];

export const NAV_ITEMS: readonly NavItem[] = [
  { to: "/day", label: "day", roles: EVERYONE },
  { to: "/team", label: "team", roles: ["ROLE_MANAGER", "ROLE_ADMIN"] },
  { to: "/cockpit", label: "cockpit", roles: ["ROLE_MANAGER", "ROLE_ADMIN"] },
  { to: "/board", label: "board", roles: ["ROLE_REP", "ROLE_MANAGER"] },
  { to: "/leads", label: "leads", roles: EVERYONE },
  { to: "/import", label: "import", roles: EVERYONE },
  { to: "/accounts", label: "accounts", roles: EVERYONE },
  { to: "/pipeline", label: "pipeline", roles: EVERYONE },
  { to: "/opportunities", label: "opportunities", roles: EVERYONE },
  { to: "/knowledge", label: "knowledge", roles: EVERYONE },
  // A statement is a rep's own ("my pay"); managers' team statements come with the team page.
  { to: "/statements", label: "statements", roles: ["ROLE_REP"] },
];

export function navFor(role: Role | undefined): NavItem[] {
  return NAV_ITEMS.filter((item) => role !== undefined && item.roles.includes(role));
}
