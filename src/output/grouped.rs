//! The grouped report (see [`crate::report`]) in its other forms: Markdown (`diff` and
//! `changes --format markdown`) and HTML (the feed's entries). The table is
//! [`super::report`]'s.

use super::report::line_details;
use crate::changes::Compared;
use crate::model::{Record, name_with_ordinal};
use crate::report::{Group, Line};
use std::io::{self, Write};

/// What a report compared, as its title says it.
pub fn title(compared: &Compared) -> String {
    match compared {
        Compared::Snapshots { from, to } => format!(
            "Changes from snapshot {} (registry {}) to snapshot {} (registry {})",
            from.id, from.registry_date, to.id, to.registry_date
        ),
        Compared::RegistryDates {
            snapshot, since, ..
        } => format!(
            "Records of snapshot {} (registry {}) registered or modified on or after {since}, by the registry's own dates",
            snapshot.id, snapshot.registry_date
        ),
    }
}

/// The groups that have lines, in the table's order, each with its lines.
fn groups<R: Record>(lines: &[Line<R>]) -> impl Iterator<Item = (Group, Vec<&Line<R>>)> {
    Group::ALL.into_iter().filter_map(|group| {
        let members: Vec<&Line<R>> = lines.iter().filter(|l| l.group == group).collect();
        (!members.is_empty()).then_some((group, members))
    })
}

/// The report in Markdown, for chat, issues and email: `## title`, then per group a
/// `### Group (count)` heading and a list with one item per line. Every value is escaped
/// (see [`markdown_text`]), so each line is one list item whatever the registry wrote.
pub fn markdown<R: Record>(out: &mut impl Write, title: &str, lines: &[Line<R>]) -> io::Result<()> {
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
            let key = match (record.name(), record.has_place()) {
                (Some(_), true) => format!(
                    "{} **{}**",
                    markdown_text(&record.label()),
                    markdown_text(&name_with_ordinal(record))
                ),
                (Some(_), false) => {
                    format!("**{}**", markdown_text(&name_with_ordinal(record)))
                }
                (None, _) => markdown_text(&record.label()),
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
pub fn html<R: Record>(lines: &[Line<R>]) -> String {
    let mut html = String::new();
    for (group, members) in groups(lines) {
        html.push_str(&format!(
            "<h3>{} ({})</h3>\n<table>\n<thead><tr><th>{}</th><th>name</th><th>what</th></tr></thead>\n<tbody>\n",
            group.title(),
            members.len(),
            R::LABEL_HEADER,
        ));
        for line in members {
            let details: Vec<String> = line_details(line).iter().map(|d| html_text(d)).collect();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html_text(&line.record.label()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServiceField, ServiceRecord};
    use crate::output::report;
    use crate::output::report::tests::{line, record};

    #[test]
    fn markdown_text_escapes_what_would_format_and_leaves_the_rest() {
        assert_eq!(
            markdown_text("enabled=<true|false> *x* _y_ `z` [a](b) ~s~ $m$ back\\slash"),
            "enabled=\\<true\\|false> \\*x\\* \\_y\\_ \\`z\\` \\[a\\](b) \\~s\\~ \\$m\\$ back\\\\slash"
        );
        // An entity would become another character; R&D stays as written.
        assert_eq!(markdown_text("R&D &amp; &#38;"), "R&D \\&amp; \\&#38;");
        // @team would mention someone; an address would not.
        assert_eq!(
            markdown_text("ask @team or a@example.com"),
            "ask \\@team or a@example.com"
        );
        assert_eq!(markdown_text("two\nlines\r\n"), "two lines  ");
        assert_eq!(
            markdown_text("4700-4720/tcp -> (none) #2"),
            "4700-4720/tcp -> (none) #2"
        );
    }

    #[test]
    fn markdown_and_html_list_each_line_once_under_its_group() {
        let mut before = record(Some("https"), Some("tcp"), Some("443"));
        before.contact = Some(vec!["IETF_Chair".into()]);
        let mut after = before.clone();
        after.contact = Some(vec!["IESG".into()]);
        after.description = Some("http <over> TLS".into());
        let mut modified = line(Group::Modified, after, Some(before));
        modified.changed_fields = vec![ServiceField::Description, ServiceField::Contact];
        let lines = vec![
            line(
                Group::NewlyAssigned,
                record(Some("a_b"), Some("udp"), Some("9")),
                None,
            ),
            modified,
        ];
        let mut out = Vec::new();
        markdown(&mut out, "Changes from snapshot 1 to 2", &lines).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "## Changes from snapshot 1 to 2\n\
             \n\
             ### Newly assigned (1)\n\
             \n\
             - 9/udp **a\\_b**: Described\n\
             \n\
             ### Modified (1)\n\
             \n\
             - 443/tcp **https**: description: Described -> http \\<over> TLS; contact: IETF\\_Chair -> IESG\n"
        );
        let html = html(&lines);
        assert_eq!(html.matches("<tr><td>").count(), 2, "{html}");
        assert!(html.contains("<h3>Modified (1)</h3>"), "{html}");
        assert!(
            html.contains(
                "<td>description: Described -&gt; http &lt;over&gt; TLS<br>contact: IETF_Chair -&gt; IESG</td>"
            ),
            "{html}"
        );
    }

    fn range(port: &str, description: &str) -> ServiceRecord {
        ServiceRecord {
            description: Some(description.into()),
            ..record(None, None, Some(port))
        }
    }

    #[test]
    fn every_record_a_line_replaced_is_in_markdown_and_html() {
        let mut both = line(Group::DeassignedOrReserved, range("8077", "Reserved"), None);
        both.before = vec![
            record(Some("mles"), Some("tcp"), Some("8077")),
            record(Some("mles"), Some("udp"), Some("8077")),
        ];
        let mut merged = line(Group::Redrawn, range("100-110", "Unassigned"), None);
        merged.before = vec![
            range("100-104", "Unassigned"),
            range("106-110", "Unassigned"),
        ];
        let lines = [both, merged];
        let mut out = Vec::new();
        markdown(&mut out, "t", &lines).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "## t\n\n### De-assigned or reserved (1)\n\n\
             - 8077: Reserved (was 8077/tcp mles; 8077/udp mles)\n\n\
             ### Unassigned ranges redrawn (1)\n\n\
             - 100-110: Unassigned (was 100-104 Unassigned; 106-110 Unassigned)\n"
        );
        let html = html(&lines);
        assert!(
            html.contains("<h3>Unassigned ranges redrawn (1)</h3>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<tr><td>100-110</td><td></td><td>Unassigned (was 100-104 Unassigned; 106-110 Unassigned)</td></tr>"
            ),
            "{html}"
        );
        let mut table = Vec::new();
        report(&mut table, &lines, false).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("Unassigned ranges redrawn (1)\n"), "{table}");
        assert!(
            table.contains("(was 8077/tcp mles; 8077/udp mles)"),
            "{table}"
        );
    }
}
