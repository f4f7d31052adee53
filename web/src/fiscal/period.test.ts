import { describe, expect, it } from "vitest";
import { calendarOf, periodOf } from "./period";

const day = (y: number, m: number, d: number) => new Date(y, m - 1, d);

describe("fiscal periods", () => {
  it("counts the calendar year until the organisation sets one", () => {
    const calendar = calendarOf(undefined);
    expect(periodOf(calendar, "quarter", day(2026, 8, 15))).toEqual({
      kind: "quarter",
      label: "FY2026-Q3",
      fromMonth: "2026-07",
      toMonth: "2026-09",
    });
    expect(periodOf(calendar, "year", day(2026, 8, 15)).label).toBe("FY2026");
    expect(periodOf(calendar, "month", day(2026, 8, 15)).label).toBe("2026-08");
  });

  it("names an April year by the year it starts in, or ends in", () => {
    const starting = calendarOf({ fiscal_year_start_month: 4 });
    const ending = calendarOf({
      fiscal_year_start_month: 4,
      fiscal_year_naming: "FISCAL_YEAR_NAMING_ENDING_YEAR",
    });
    // April 2026 – March 2027: FY2026 (starting year) or FY2027 (ending year).
    expect(periodOf(starting, "quarter", day(2026, 4, 1)).label).toBe("FY2026-Q1");
    expect(periodOf(ending, "quarter", day(2026, 4, 1)).label).toBe("FY2027-Q1");
    const march = periodOf(ending, "quarter", day(2027, 3, 31));
    expect(march).toMatchObject({ label: "FY2027-Q4", fromMonth: "2027-01", toMonth: "2027-03" });
    expect(periodOf(starting, "year", day(2027, 2, 1))).toMatchObject({
      label: "FY2026",
      fromMonth: "2026-04",
      toMonth: "2027-03",
    });
  });

  it("crosses the calendar year inside a quarter", () => {
    const november = calendarOf({ fiscal_year_start_month: 11 });
    expect(periodOf(november, "quarter", day(2027, 1, 10))).toMatchObject({
      label: "FY2026-Q1",
      fromMonth: "2026-11",
      toMonth: "2027-01",
    });
  });
});
