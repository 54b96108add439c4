//! People's Markdown (a practice's text) as safe HTML: raw HTML is shown as text, links
//! and images lead only to web addresses, mail, or this site, images become links (the
//! page loads nothing from elsewhere), and headings start below the page's own.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// A destination a reader may follow: http(s), mail, or a path of this site.
fn safe_destination(url: &str) -> bool {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//") && !u.starts_with("/\\"))
        || u.starts_with('#');
    scheme_ok && !u.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn destination(url: CowStr<'_>) -> CowStr<'_> {
    if safe_destination(&url) {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The HTML of `markdown`, safe to put in a page as it is.
pub(crate) fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML, block or inline, is text like any other.
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        // A link keeps a safe destination only; an image becomes a link to it.
        Event::Start(
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }
            | Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            },
        ) => Event::Start(Tag::Link {
            link_type,
            dest_url: destination(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        let html = to_html(
            "# Titolo\n\nUn **regolamento** e [il testo](https://example.it/r.pdf).\n\n- uno\n- due",
        );
        assert!(html.contains("<h3>Titolo</h3>"), "{html}");
        assert!(html.contains("<strong>regolamento</strong>"));
        assert!(html.contains("<a href=\"https://example.it/r.pdf\">il testo</a>"));
        assert!(html.contains("<li>uno</li>"));
    }

    #[test]
    fn the_usual_xss_payloads_stay_text_or_lead_nowhere() {
        for payload in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](javascript&#58;alert(1))",
            "[x]( javascript:alert(1) )",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "[x](//evil.example/a)",
            "![x](javascript:alert(1))",
            "![x](https://evil.example/pixel.gif)",
            "<javascript:alert(1)>",
            "[x]: javascript:alert(1)\n\n[y][x]",
            "<details open ontoggle=alert(1)>",
            "`<script>` and ```\n<script>alert(1)</script>\n```",
            "\"><script>alert(1)</script>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        ] {
            let html = to_html(payload);
            let lower = html.to_ascii_lowercase();
            // No element but the parser's own: every `<` of the payload is text.
            for bad in [
                "<script",
                "<img",
                "<svg",
                "<iframe",
                "<details",
                "<math",
                "<style",
                "<div",
                "<a href=\"javascript",
            ] {
                assert!(!lower.contains(bad), "{payload:?} → {html}");
            }
            // Every element comes from the parser (each `<` of the payload is text): its only
            // attribute is a link to the web, or to nowhere.
            for tag in html.split('<').skip(1) {
                let head = &tag[..tag.find('>').unwrap_or(tag.len())];
                if let Some((_, attrs)) = head.split_once(' ') {
                    let href = attrs
                        .strip_prefix("href=\"")
                        .map(|r| &r[..r.find('"').unwrap()]);
                    assert!(
                        matches!(href, Some(h) if h == "#" || h.starts_with("https://") || h.starts_with("http://")),
                        "{payload:?} → {html}"
                    );
                }
            }
        }
        // An image becomes a link to it: the page loads nothing from elsewhere.
        let html = to_html("![foto](https://example.it/foto.jpg)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.it/foto.jpg\">foto</a></p>\n"
        );
    }
}
