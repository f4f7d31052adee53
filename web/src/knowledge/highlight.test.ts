import { describe, expect, it } from "vitest";
import { decodeEntities, highlightParts } from "./highlight";

describe("search highlights", () => {
  it("marks the matched terms and decodes the escaped rest", () => {
    expect(highlightParts("<mark>Discount</mark> &lt;rules&gt; &amp; 折扣")).toEqual([
      { text: "Discount", marked: true },
      { text: " <rules> & 折扣", marked: false },
    ]);
  });

  it("shows any other tag as text", () => {
    expect(highlightParts("<script>x</script><mark>a</mark>")).toEqual([
      { text: "<script>x</script>", marked: false },
      { text: "a", marked: true },
    ]);
  });

  it("decodes numeric references", () => {
    expect(decodeEntities("it&#39;s &#x4e2d; &unknown;")).toBe("it's 中 &unknown;");
  });
});
