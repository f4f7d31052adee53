import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { useTranslation } from "react-i18next";
import { useSession, useUser } from "../session/SessionContext";
import { LanguageSwitch } from "./LanguageSwitch";
import { navFor } from "./nav";
import "./shell.css";

/** The frame of every signed-in page: header, navigation by role, and the page. */
export function AppShell() {
  const { t } = useTranslation();
  const user = useUser();
  const session = useSession();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const items = navFor(user.role);

  // On a phone the menu covers the page: close it once a page is chosen.
  useEffect(() => setMenuOpen(false), [location.pathname]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t("shell.skipToContent")}
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="primary-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <span className="menu-icon" aria-hidden="true" />
          <span className="visually-hidden">{menuOpen ? t("shell.closeMenu") : t("shell.openMenu")}</span>
        </button>
        <NavLink to="/day" className="brand">
          {t("app.name")}
        </NavLink>
        <div className="topbar-end">
          <LanguageSwitch />
          <div className="user-chip">
            <span className="user-name">{user.display_name}</span>
            <span className="user-role">{t(`roles.${user.role ?? "ROLE_UNSPECIFIED"}`)}</span>
          </div>
          <button type="button" className="button button-ghost" onClick={() => void session.logout()}>
            {t("shell.signOut")}
          </button>
        </div>
      </header>
      <nav id="primary-nav" className={`sidenav${menuOpen ? " sidenav-open" : ""}`} aria-label={t("shell.navigation")}>
        <ul>
          {items.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} className={({ isActive }) => `nav-link${isActive ? " nav-link-active" : ""}`}>
                {t(`nav.${item.label}`)}
              </NavLink>
            </li>
          ))}
        </ul>
        <p className="sidenav-team" title={user.team_path}>
          {user.team_path}
        </p>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
