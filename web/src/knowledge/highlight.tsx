// Search hits come with the matched terms in <mark> and every other character escaped by the
// knowledge service. They are rendered as React text and <mark> elements — never as HTML — so
// that nothing in an article's text can become markup, whatever the service sent.
import type { ReactNode } from "react";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Text with its character references decoded (`&lt;` → `<`, `&#39;` → `'`). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X")) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The parts of a highlighted string: plain text, and the marked terms. */
export function highlightParts(html: string): { text: string; marked: boolean }[] {
  return html
    .split(/(<mark>.*?<\/mark>)/s)
    .filter((part) => part !== "")
    .map((part) => {
      const marked = part.startsWith("<mark>") && part.endsWith("</mark>");
      const inner = marked ? part.slice("<mark>".length, -"</mark>".length) : part;
      // Any other tag would be the service's mistake: shown as text, not obeyed.
      return { text: decodeEntities(inner), marked };
    });
}

export function Highlighted({ html }: { html: string | undefined }): ReactNode {
  return highlightParts(html ?? "").map((part, index) =>
    part.marked ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
  );
}
