import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { json, problem, REP, stubFetch } from "../test/fetchStub";
import { renderConsole } from "../test/render";
import { LeadActions } from "./LeadActions";

const qualified = {
  id: "l1",
  first_name: "Hua",
  last_name: "Sun",
  company: "Litware",
  status: "LEAD_STATUS_QUALIFIED" as const,
  owner_id: REP.id,
};

const settings = { settings: { corporate_currency: "CNY" } };

describe("a lead's next step", () => {
  it("offers a pool lead to claim", async () => {
    const { fetch, calls } = stubFetch({ "POST /v1/leads/l1:claim": [json({ lead: {} })] });
    await renderConsole(<LeadActions lead={{ ...qualified, status: "LEAD_STATUS_NEW", owner_id: "", pool_team_path: "/acme/east/" }} />, {
      fetch,
      signedIn: true,
    });
    fireEvent.click(await screen.findByRole("button", { name: "Claim this lead" }));
    await screen.findByRole("button", { name: "Claim this lead" });
    expect(calls.some((call) => call.method === "POST" && call.path === "/v1/leads/l1:claim")).toBe(true);
  });

  it("converts a qualified lead with the corporate currency, and checks the amount first", async () => {
    const { fetch, calls } = stubFetch({
      "GET /v1/orgSettings": [json(settings)],
      "POST /v1/leads/l1:convert": [json({ opportunity_id: "d9", account_id: "a1" })],
    });
    const { router } = await renderConsole(<LeadActions lead={qualified} />, { fetch, signedIn: true });
    expect((await screen.findByLabelText("Deal name")).getAttribute("value")).toBe("Litware");
    await screen.findByDisplayValue("CNY");
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "12,5" } });
    fireEvent.click(screen.getByRole("button", { name: "Convert" }));
    expect(await screen.findByText("Enter an amount such as 250000 or 1200.50.")).toBeTruthy();
    expect(screen.getByLabelText("Amount").getAttribute("aria-invalid")).toBe("true");
    expect(calls.some((call) => call.method === "POST")).toBe(false);

    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "380000" } });
    fireEvent.click(screen.getByRole("button", { name: "Convert" }));
    await screen.findByText("elsewhere");
    expect(router.state.location.pathname + router.state.location.search).toBe("/opportunities/d9?converted=1");
    const sent = JSON.parse(calls.find((call) => call.method === "POST")!.body);
    expect(sent.opportunity_name).toBe("Litware");
    expect(sent.opportunity_amount).toEqual({ amount: "380000", currency_code: "CNY" });
    expect(sent.expected_close_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("puts the service's field errors next to their fields", async () => {
    const { fetch } = stubFetch({
      "GET /v1/orgSettings": [json(settings)],
      "POST /v1/leads/l1:convert": [
        problem(400, { code: "INVALID_ARGUMENT", field_violations: [{ field: "opportunity_amount.currency_code", description: "XYZ is not an ISO 4217 currency" }] }),
      ],
    });
    await renderConsole(<LeadActions lead={qualified} />, { fetch, signedIn: true });
    await screen.findByDisplayValue("CNY");
    fireEvent.change(screen.getByLabelText("Currency"), { target: { value: "XYZ" } });
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "1" } });
    fireEvent.click(screen.getByRole("button", { name: "Convert" }));
    expect(await screen.findByText("XYZ is not an ISO 4217 currency")).toBeTruthy();
    expect(screen.getByLabelText("Currency").getAttribute("aria-invalid")).toBe("true");
  });
});
