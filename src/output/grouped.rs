//! The grouped report (see [`crate::report`]) in its other forms: Markdown (`diff` and
//! `changes --format markdown`) and HTML (the feed's entries). The table is
//! [`super::report`].

use super::changes::line_details;
use super::records::{name_with_ordinal, record_label};
use crate::report::{Group, Line};
use std::io::{self, Write};

/// The groups that have lines, in the table's order, each with its lines.
fn groups(lines: &[Line]) -> impl Iterator<Item = (Group, Vec<&Line>)> {
    Group::ALL.into_iter().filter_map(|group| {
        let members: Vec<&Line> = lines.iter().filter(|l| l.group == group).collect();
        (!members.is_empty()).then_some((group, members))
    })
}

/// The report in Markdown, for chat, issues and email: `## title`, then per group a
/// `### Group (count)` heading and a list with one item per line. Every value is escaped
/// (see [`markdown_text`]), so each line is one list item whatever the registry wrote.
pub fn markdown(out: &mut impl Write, title: &str, lines: &[Line]) -> io::Result<()> {
    writeln!(out, "## {}", markdown_text(title))?;
    if lines.is_empty() {
        writeln!(out)?;
        return writeln!(out, "No changes.");
    }
    for (group, members) in groups(lines) {
        writeln!(out)?;
        writeln!(out, "### {} ({})", group.title(), members.len())?;
        writeln!(out)?;
        for line in members {
            let record = &line.record;
            // `443/tcp **https**`, `**netconf-beep**` (no port), `8077/tcp` (no name).
            let has_port = record.port.is_some() || record.protocol.is_some();
            let key = match (&record.name, has_port) {
                (Some(_), true) => format!(
                    "{} **{}**",
                    markdown_text(&record_label(record)),
                    markdown_text(&name_with_ordinal(record))
                ),
                (Some(_), false) => {
                    format!("**{}**", markdown_text(&name_with_ordinal(record)))
                }
                (None, _) => markdown_text(&record_label(record)),
            };
            let details: Vec<String> = line_details(line)
                .iter()
                .filter(|d| !d.is_empty())
                .map(|d| markdown_text(d))
                .collect();
            if details.is_empty() {
                writeln!(out, "- {key}")?;
            } else {
                writeln!(out, "- {key}: {}", details.join("; "))?;
            }
        }
    }
    Ok(())
}

/// Text that Markdown shows as written, on one line: the characters that would start
/// emphasis, code, a link, HTML, math, a table cell or strike-through are escaped with a
/// backslash, as are `&` when it would start an entity and `@` when it would mention
/// someone; line breaks become spaces.
pub fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        match c {
            '\\' | '`' | '*' | '_' | '|' | '<' | '[' | ']' | '~' | '$' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '&' if starts_entity(&text[at..]) => escaped.push_str("\\&"),
            '@' if previous.is_none_or(|p| !p.is_alphanumeric()) => escaped.push_str("\\@"),
            '\r' | '\n' => escaped.push(' '),
            c => escaped.push(c),
        }
        previous = Some(c);
    }
    escaped
}

/// `&amp;`, `&#38;`, `&#x26;`: what Markdown would turn into another character.
fn starts_entity(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('&') else {
        return false;
    };
    let body_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
        .unwrap_or(rest.len());
    body_len > 0 && rest[body_len..].starts_with(';')
}

/// The report as an HTML fragment (one `<h3>` and one table per group), every value
/// escaped. Nothing when there are no lines.
pub fn html(lines: &[Line]) -> String {
    let mut html = String::new();
    for (group, members) in groups(lines) {
        html.push_str(&format!(
            "<h3>{} ({})</h3>\n<table>\n<thead><tr><th>port</th><th>name</th><th>what</th></tr></thead>\n<tbody>\n",
            group.title(),
            members.len()
        ));
        for line in members {
            let details: Vec<String> = line_details(line).iter().map(|d| html_text(d)).collect();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html_text(&record_label(&line.record)),
                html_text(&name_with_ordinal(&line.record)),
                details.join("<br>")
            ));
        }
        html.push_str("</tbody>\n</table>\n");
    }
    html
}

/// Text as HTML shows it: `&`, `<`, `>` and quotes escaped.
pub fn html_text(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}
