// The app's single session and API client. Created once per page; tests build their own.
import { createApiClient, data } from "../api/client";
import { Session } from "../session/session";

function peerChannel(): BroadcastChannel | undefined {
  return typeof BroadcastChannel === "undefined" ? undefined : new BroadcastChannel("crm-session");
}

export const session = new Session({
  // After a reload the page has only the cookie: GetMe says whose session it is.
  loadUser: async () => {
    const me = await data(api.GET("/v1/me"));
    if (!me.user?.id) throw new Error("GetMe answered no user");
    return me.user;
  },
  locks: globalThis.navigator?.locks,
  channel: peerChannel(),
});

export const api = createApiClient(session);
