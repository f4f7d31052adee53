//! An article's Markdown body as HTML that is safe to show in the console: CommonMark with
//! tables and strikethrough, then sanitised by an allow-list (ammonia) — no script, no style,
//! no event handler, no `javascript:` link, whatever the author wrote as raw HTML. Links get
//! `rel="noopener noreferrer nofollow"`.

use pulldown_cmark::{Options, Parser, html};

/// The body rendered and sanitised. Deterministic: the same Markdown gives the same HTML.
pub fn to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

/// The body as plain text for the search index and snippets: the Markdown's text without its
/// marks, blocks on lines of their own.
pub fn to_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, TagEnd};
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Text(part) | Event::Code(part) => text.push_str(&part),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_),
            ) => text.push('\n'),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = to_html("# Proposal\n\nAsk for the **budget** owner.\n\n- one\n- two\n");
        assert_eq!(
            html,
            "<h1>Proposal</h1>\n<p>Ask for the <strong>budget</strong> owner.</p>\n\
             <ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
    }

    #[test]
    fn tables_and_strikethrough_render() {
        let html = to_html("| us | Globex |\n|---|---|\n| 99.9 % | 99 % |\n\n~~old price~~\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains("<td>Globex</td>") || html.contains("<th>Globex</th>"),
            "{html}"
        );
        assert!(html.contains("<del>old price</del>"), "{html}");
    }

    #[test]
    fn script_and_handlers_are_removed() {
        let html = to_html(
            "Hello <script>alert(1)</script><img src=x onerror=\"alert(2)\">\n\n\
             <a href=\"javascript:alert(3)\">click</a> <div style=\"position:fixed\">x</div>\n\n\
             [ok](https://example.com)",
        );
        for banned in ["<script", "alert(1)", "onerror", "javascript:", "style="] {
            assert!(!html.contains(banned), "{banned} survived in {html}");
        }
        assert!(
            html.contains(
                "<a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">ok</a>"
            ),
            "{html}"
        );
    }

    #[test]
    fn chinese_text_is_kept() {
        assert_eq!(
            to_html("竞品对比：**Globex**"),
            "<p>竞品对比：<strong>Globex</strong></p>\n"
        );
    }

    #[test]
    fn plain_text_drops_the_marks() {
        assert_eq!(
            to_text("# Title\n\nSome **bold** and `code`.\n\n- a\n- b\n"),
            "Title\nSome bold and code.\na\nb\n"
        );
    }
}
