import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { json, problem, stubFetch } from "../test/fetchStub";
import { renderConsole } from "../test/render";
import { PipelineBoardPage } from "./PipelineBoardPage";

const pipelines = {
  pipelines: [
    {
      id: "p1",
      name: "New business",
      is_default: true,
      stages: [
        { id: "s1", name: "Qualify", position: 1, kind: "STAGE_KIND_OPEN", default_probability: 20 },
        { id: "s2", name: "Proposal", position: 2, kind: "STAGE_KIND_OPEN", default_probability: 60 },
        { id: "s3", name: "Won", position: 3, kind: "STAGE_KIND_WON" },
      ],
    },
  ],
};

const contoso = {
  id: "d1",
  name: "Contoso line 3",
  version: 4,
  stage: { stage_id: "s1", name: "Qualify" },
  amount: { amount: "1200000.00", currency_code: "CNY" },
  corporate_amount: { amount: { amount: "1200000.00", currency_code: "CNY" } },
  expected_close_date: "2026-12-20",
};

const refusal = problem(422, {
  code: "FAILED_PRECONDITION",
  reason: "EXIT_CRITERIA_NOT_MET",
  detail: "exit criteria of Qualify are not met",
  field_violations: [
    { field: "buying_committee.economic_buyer", description: "no economic buyer" },
    { field: "next_step", description: "no next step" },
  ],
});

function routes(change: Response[]) {
  return {
    "GET /v1/pipelines": [json(pipelines)],
    "GET /v1/opportunities": [json({ opportunities: [contoso], page: {} })],
    "POST /v1/opportunities/d1:changeStage": change,
  };
}

describe("the pipeline board", () => {
  it("shows each stage's deals and says which exit criteria refuse a move", async () => {
    const { fetch, calls } = stubFetch(routes([refusal]));
    await renderConsole(<PipelineBoardPage />, { fetch, signedIn: true, path: "/pipeline" });
    const qualify = (await screen.findByRole("heading", { name: "Qualify" })).closest("section")!;
    expect(within(qualify).getByRole("link", { name: "Contoso line 3" })).toBeTruthy();
    expect(within(qualify).getByText("1 deal · 20%")).toBeTruthy();

    fireEvent.change(screen.getByLabelText("Stage of Contoso line 3"), { target: { value: "s2" } });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("“Contoso line 3” cannot move to Proposal yet.");
    expect(within(alert).getByText("Economic buyer on the buying committee")).toBeTruthy();
    expect(within(alert).getByText("A next step")).toBeTruthy();
    // Sent at the version shown, so a stale board cannot overwrite someone else's change.
    const move = calls.find((call) => call.method === "POST")!;
    expect(JSON.parse(move.body)).toEqual({ stage_id: "s2", expected_version: 4 });
    // Refused: the deal is still where it was.
    expect(within(qualify).getByRole("link", { name: "Contoso line 3" })).toBeTruthy();
  });

  it("says what other refusals were, in the API's words", async () => {
    const { fetch } = stubFetch(routes([problem(409, { code: "ABORTED", detail: "the deal changed meanwhile" })]));
    await renderConsole(<PipelineBoardPage />, { fetch, signedIn: true, path: "/pipeline" });
    fireEvent.change(await screen.findByLabelText("Stage of Contoso line 3"), { target: { value: "s2" } });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("“Contoso line 3” was not moved to Proposal.");
    expect(alert.textContent).toContain("the deal changed meanwhile");
  });

  it("says what to do when the pipeline has no open deals", async () => {
    const { fetch } = stubFetch({ ...routes([]), "GET /v1/opportunities": [json({ opportunities: [] })] });
    await renderConsole(<PipelineBoardPage />, { fetch, signedIn: true, path: "/pipeline" });
    expect(await screen.findByText("No open deals in this pipeline.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Go to leads" })).toBeTruthy();
  });
});
