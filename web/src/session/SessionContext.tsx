import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import type { ApiClient } from "../api/client";
import type { User } from "../api/types";
import type { Session, SessionState } from "./session";

interface Services {
  session: Session;
  api: ApiClient;
}

const ServicesContext = createContext<Services | null>(null);

export function ServicesProvider({ session, api, children }: Services & { children: ReactNode }) {
  return <ServicesContext.Provider value={{ session, api }}>{children}</ServicesContext.Provider>;
}

function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("ServicesProvider is missing");
  return services;
}

export function useApi(): ApiClient {
  return useServices().api;
}

export function useSession(): Session {
  return useServices().session;
}

export function useSessionState(): SessionState {
  const session = useSession();
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in user; only inside the pages behind RequireSession. */
export function useUser(): User {
  const state = useSessionState();
  if (state.status !== "signed-in") throw new Error("useUser outside a signed-in page");
  return state.user;
}
