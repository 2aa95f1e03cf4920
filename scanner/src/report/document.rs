//! A small document model, rendered as Markdown or as a self-contained HTML page, so that both
//! say the same thing by construction. Every piece of text is plain: each renderer escapes it
//! for its own syntax.

use std::fmt::Write;

/// How a count or a cell should stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Muted,
    Warn,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Muted => "muted",
            Tone::Warn => "warn",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1 to 3. The id makes it a link target in HTML.
    Heading {
        level: u8,
        id: Option<String>,
        text: String,
    },
    Paragraph(String),
    /// Labelled counts, e.g. `12 passed`.
    Counts(Vec<(usize, &'static str, Tone)>),
    Table {
        headers: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
    List(Vec<String>),
    /// A remark that should not be missed.
    Callout(Tone, String),
}

/// Markdown (CommonMark with GitHub tables).
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading { level, text, .. } => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), md(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", md(text));
            }
            Block::Counts(counts) => {
                let parts: Vec<String> = counts
                    .iter()
                    .map(|(count, label, _)| format!("**{count}** {}", md(label)))
                    .collect();
                let _ = writeln!(out, "{}\n", parts.join(" · "));
            }
            Block::Table { headers, rows } => {
                let header: Vec<String> = headers.iter().map(|h| md(h)).collect();
                let _ = writeln!(out, "| {} |", header.join(" | "));
                let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|cell| md(cell)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", md(item));
                }
                out.push('\n');
            }
            Block::Callout(_, text) => {
                let _ = writeln!(out, "> {}\n", md(text));
            }
        }
    }
    out
}

/// Escapes Markdown: every ASCII punctuation character that could start markup is
/// backslash-escaped, and line breaks become spaces so that a table row stays one row.
fn md(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!'
            | '&' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A complete HTML page: inline styles, no scripts, no external resources.
pub fn html(title: &str, blocks: &[Block]) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    for block in blocks {
        match block {
            Block::Heading { level, id, text } => {
                let level = (*level).clamp(1, 3);
                match id {
                    Some(id) => {
                        let _ =
                            writeln!(out, "<h{level} id=\"{}\">{}</h{level}>", esc(id), esc(text));
                    }
                    None => {
                        let _ = writeln!(out, "<h{level}>{}</h{level}>", esc(text));
                    }
                }
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", esc(text));
            }
            Block::Counts(counts) => {
                out.push_str("<p class=\"counts\">");
                for (count, label, tone) in counts {
                    let _ = write!(
                        out,
                        "<span class=\"count {}\"><b>{count}</b> {}</span>",
                        tone.class(),
                        esc(label)
                    );
                }
                out.push_str("</p>\n");
            }
            Block::Table { headers, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for header in headers {
                    let _ = write!(out, "<th>{}</th>", esc(header));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", esc(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", esc(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Callout(tone, text) => {
                let _ = writeln!(
                    out,
                    "<p class=\"callout {}\">{}</p>",
                    tone.class(),
                    esc(text)
                );
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Escapes text for HTML element content and quoted attribute values.
fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

const STYLE: &str = "
body{margin:0;background:#f4f5f7;color:#1d2433;font:15px/1.5 system-ui,-apple-system,'Segoe UI',
Roboto,'Helvetica Neue',Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 36px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 6px;color:#12355b}
h2{font-size:20px;margin:34px 0 8px;padding-top:14px;border-top:3px solid #12355b;color:#12355b}
h3{font-size:16px;margin:20px 0 6px;color:#33415c}
p{margin:6px 0 10px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-size:13.5px}
th,td{border:1px solid #d5d9e2;padding:5px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#eef1f6;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
ul{margin:4px 0 12px;padding-left:22px}
.counts{display:flex;flex-wrap:wrap;gap:8px}
.count{display:inline-block;padding:3px 10px;border-radius:12px;font-size:13.5px;
border:1px solid #d5d9e2;background:#f6f7f9}
.count.good{background:#e6f4ea;border-color:#a8d5b5;color:#1e6b34}
.count.bad{background:#fde8e8;border-color:#f0a9a9;color:#9b1c1c}
.count.warn{background:#fff4d6;border-color:#ecd08a;color:#7a5200}
.count.muted{color:#5b6476}
.callout{padding:8px 12px;border-left:4px solid #8a94a6;background:#f6f7f9}
.callout.bad{border-color:#c53030;background:#fdf0f0}
.callout.warn{border-color:#d69e2e;background:#fffaeb}
.callout.good{border-color:#2f855a;background:#f0faf4}
";

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Block> {
        vec![
            Block::Heading {
                level: 2,
                id: Some("s-164.312".into()),
                text: "164.312 <Technical> & \"safeguards\"".into(),
            },
            Block::Counts(vec![(3, "passed", Tone::Good), (1, "failed", Tone::Bad)]),
            Block::Table {
                headers: vec!["Rule", "Resource"],
                rows: vec![vec!["EAR001".into(), "aws_s3_bucket.a[\"x|y\"]\nz".into()]],
            },
            Block::Callout(Tone::Warn, "<script>alert(1)</script>".into()),
        ]
    }

    #[test]
    fn html_escapes_every_piece_of_text() {
        let page = html("t<", &sample());
        assert!(page.contains(
            "<h2 id=\"s-164.312\">164.312 &lt;Technical&gt; &amp; &quot;safeguards&quot;</h2>"
        ));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script"));
        assert!(page.contains("<title>t&lt;</title>"));
        assert!(page.contains("<span class=\"count good\"><b>3</b> passed</span>"));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }

    #[test]
    fn markdown_keeps_table_rows_whole_and_markup_inert() {
        let text = markdown(&sample());
        assert!(text.contains("## 164.312 \\<Technical\\> \\& \"safeguards\"\n"));
        assert!(text.contains("| EAR001 | aws\\_s3\\_bucket.a\\[\"x\\|y\"\\] z |\n"));
        assert!(text.contains("**3** passed · **1** failed"));
        assert!(text.contains("> \\<script\\>alert(1)\\</script\\>"));
    }
}
