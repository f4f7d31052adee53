import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { json, problem, stubFetch } from "../../test/fetchStub";
import { renderConsole } from "../../test/render";
import { PriorityBoardCard } from "./PriorityBoardCard";

const BOARD = "GET /v1/priorityBoard";

const item = {
  rank: 1,
  score: "61.25",
  late_milestones: 0,
  max_days_late: 0,
  opportunity: {
    id: "d1",
    name: "Contoso line 3",
    amount: { amount: "1200000.00", currency_code: "CNY" },
    stage: { name: "Propose" },
    expected_close_date: "2026-09-30",
  },
  parts: [
    {
      name: "closeness",
      value: "0.3000",
      weight: 20,
      points: "6.00",
      explanation: {
        code: "opportunities.board.closeness",
        params: { days: "63", horizon_days: "90" },
        text: "closes in 63 days of a 90-day horizon",
      },
    },
    {
      name: "probability",
      value: "0.6000",
      weight: 35,
      points: "21.00",
      explanation: { code: "opportunities.board.probability", params: { probability: "60" }, text: "probability 60%" },
    },
  ],
};

describe("the priority board card", () => {
  it("shows that it is loading", async () => {
    const { fetch } = stubFetch({ [BOARD]: [() => new Promise<Response>(() => {})] });
    await renderConsole(<PriorityBoardCard />, { fetch, signedIn: true });
    expect((await screen.findByRole("status")).textContent).toContain("Loading…");
  });

  it("says what to do when there are no open deals", async () => {
    const { fetch } = stubFetch({ [BOARD]: [json({ items: [], total_open_deals: 0 })] });
    await renderConsole(<PriorityBoardCard />, { fetch, signedIn: true });
    expect(await screen.findByText("You have no open deals.")).toBeTruthy();
    expect(screen.getByText(/Convert a qualified lead/)).toBeTruthy();
  });

  it("shows the problem's detail, its request id and a retry", async () => {
    const { fetch, calls } = stubFetch({ [BOARD]: [problem(500, { code: "INTERNAL", detail: "internal error", request_id: "r-77" })] });
    await renderConsole(<PriorityBoardCard />, { fetch, signedIn: true });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Something went wrong on our side.");
    expect(alert.textContent).toContain("internal error");
    expect(alert.textContent).toContain("r-77");
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
    expect(calls).toHaveLength(1); // A 500 is an answer: not retried behind the user's back.
  });

  it("says an outage is being retried", async () => {
    const { fetch } = stubFetch({ [BOARD]: [problem(503, { code: "UNAVAILABLE" }, { "Retry-After": "2" })] });
    const { queryClient } = await renderConsole(<PriorityBoardCard />, { fetch, signedIn: true });
    expect(await screen.findByText(/Temporarily unavailable, retrying\./)).toBeTruthy();
    expect(screen.getByText(/Next try in 2 seconds/)).toBeTruthy();
    queryClient.clear();
  });

  it("ranks the deals with their score parts, in Chinese", async () => {
    const { fetch, calls } = stubFetch({ [BOARD]: [json({ items: [item], total_open_deals: 1, formula: "score = …" })] });
    await renderConsole(<PriorityBoardCard />, { fetch, signedIn: true, language: "zh" });
    expect(await screen.findByRole("link", { name: "Contoso line 3" })).toBeTruthy();
    expect(screen.getByText("61.25")).toBeTruthy();
    expect(screen.getByText("63 天后成交（评估范围 90 天）")).toBeTruthy();
    expect(screen.getByText("赢率 60%")).toBeTruthy();
    expect(screen.getByText(/¥1,200,000\.00/)).toBeTruthy();
    expect(calls[0]?.headers.get("Authorization")).toBe("Bearer test-token");
  });
});
