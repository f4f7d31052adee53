import { describe, expect, it } from "vitest";
import type { Opportunity, Pipeline } from "../api/types";
import { addDecimals } from "../format/decimal";
import { createI18n } from "../i18n";
import { columnsOf, openStages, pickPipeline } from "./board";
import { criterionLabel, missingCriteria } from "./exitCriteria";

const pipeline = {
  id: "p1",
  is_default: true,
  stages: [
    { id: "won", name: "Won", position: 5, kind: "STAGE_KIND_WON" },
    { id: "s2", name: "Proposal", position: 2, kind: "STAGE_KIND_OPEN", default_probability: 50 },
    { id: "s1", name: "Qualify", position: 1, kind: "STAGE_KIND_OPEN", default_probability: 20 },
    { id: "old", name: "Old", position: 3, kind: "STAGE_KIND_OPEN", retired: true },
    { id: "lost", name: "Lost", position: 6, kind: "STAGE_KIND_LOST" },
  ],
} as Pipeline;

function deal(id: string, stageId: string, amount: string, currency = "CNY"): Opportunity {
  return {
    id,
    name: id,
    stage: { stage_id: stageId },
    corporate_amount: { amount: { amount, currency_code: currency } },
  } as Opportunity;
}

describe("the stage board", () => {
  it("has a column per open, unretired stage, in the pipeline's order", () => {
    expect(openStages(pipeline).map((stage) => stage.name)).toEqual(["Qualify", "Proposal"]);
  });

  it("puts each deal in its stage and sums the column exactly", () => {
    const columns = columnsOf(pipeline, [deal("a", "s1", "0.10"), deal("b", "s1", "0.20"), deal("c", "s2", "1150000")]);
    expect(columns.map((column) => column.deals.map((known) => known.id))).toEqual([["a", "b"], ["c"]]);
    // 0.1 + 0.2 in floating point is 0.30000000000000004.
    expect(columns[0]?.total).toEqual({ amount: "0.30", currency_code: "CNY" });
    expect(columns[1]?.total).toEqual({ amount: "1150000", currency_code: "CNY" });
  });

  it("shows a deal in its target column while the move is on its way", () => {
    const columns = columnsOf(pipeline, [deal("a", "s1", "10"), deal("b", "s1", "5")], { dealId: "a", stageId: "s2" });
    expect(columns.map((column) => column.deals.map((known) => known.id))).toEqual([["b"], ["a"]]);
    expect(columns[1]?.total?.amount).toBe("10");
  });

  it("leaves out deals of retired stages and totals of mixed currencies", () => {
    const columns = columnsOf(pipeline, [deal("a", "old", "1"), deal("b", "s1", "1", "CNY"), deal("c", "s1", "1", "USD")]);
    expect(columns.flatMap((column) => column.deals.map((known) => known.id))).toEqual(["b", "c"]);
    expect(columns[0]?.total).toBeUndefined();
  });

  it("opens on the pipeline asked for, else the default, else the first", () => {
    const other = { id: "p2", is_default: false } as Pipeline;
    expect(pickPipeline([other, pipeline], "p2")).toBe(other);
    expect(pickPipeline([other, pipeline], "missing")).toBe(pipeline);
    expect(pickPipeline([other], undefined)).toBe(other);
    expect(pickPipeline([], undefined)).toBeUndefined();
  });
});

describe("exact decimal sums", () => {
  it("adds across scales and signs", () => {
    expect(addDecimals(["1200.5", "0.25"])).toBe("1200.75");
    expect(addDecimals(["-0.5", "0.25"])).toBe("-0.25");
    expect(addDecimals(["99999999999999999999.999", "0.001"])).toBe("100000000000000000000.000");
    expect(addDecimals([])).toBe("0");
    expect(addDecimals(["3", "not a number"])).toBe("3");
  });
});

describe("a refused move", () => {
  const i18n = createI18n("en");
  const t = i18n.t.bind(i18n);

  it("names each missing exit criterion in words", () => {
    expect(criterionLabel(t, "next_step")).toBe("A next step");
    expect(criterionLabel(t, "buying_committee.decision_maker")).toBe("Decision maker on the buying committee");
    expect(criterionLabel(t, "custom_fields.budget")).toBe("The field “budget”");
    expect(criterionLabel(t, "something_new")).toBe("something_new");
  });

  it("reads the criteria from an EXIT_CRITERIA_NOT_MET problem only", () => {
    const problem = {
      type: "",
      title: "",
      status: 422,
      detail: "",
      code: "FAILED_PRECONDITION",
      reason: "EXIT_CRITERIA_NOT_MET",
      fieldViolations: [
        { field: "buying_committee.economic_buyer", description: "missing" },
        { field: "amount", description: "missing" },
      ],
    };
    expect(missingCriteria(t, problem)).toEqual(["Economic buyer on the buying committee", "An amount"]);
    expect(missingCriteria(t, { ...problem, reason: "ABORTED" })).toBeUndefined();
  });

  it("names them in Chinese", () => {
    const zh = createI18n("zh");
    expect(criterionLabel(zh.t.bind(zh), "buying_committee.champion")).toBe("采购决策链中的内部支持者");
  });
});
