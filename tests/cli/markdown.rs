//! `diff` and `changes` with `--format markdown`: the grouped report, one list item per line
//! of it, every value escaped, on real versions.

use crate::support::*;
use portreg::model::key_label;
use portreg::model::{Change, ServiceRecord};
use portreg::report::{Line, group_changes};
use std::collections::HashSet;
use std::path::Path;

/// The text Markdown shows for an escaped value: a backslash before punctuation is dropped.
fn unescape(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            plain.extend(chars.next());
        } else {
            plain.push(c);
        }
    }
    plain
}

/// What is left of a list item once escaped characters and the bold name are taken out:
/// nothing in it may start Markdown formatting.
fn unescaped_specials(item: &str) -> Vec<char> {
    let mut specials = Vec::new();
    let mut chars = item.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '_' | '`' | '|' | '<' | '[' | ']' | '~' | '$' => specials.push(c),
            _ => {}
        }
    }
    specials
}

fn name_with_ordinal(record: &ServiceRecord) -> String {
    let mut name = record.name.clone().unwrap_or_default();
    if record.ordinal > 1 {
        name.push_str(&format!(" #{}", record.ordinal));
    }
    name
}

fn label(record: &ServiceRecord) -> String {
    key_label(
        record.name.as_deref(),
        record.protocol.as_deref(),
        record.port.as_deref(),
    )
}

/// `5543/tcp **qftest-licserve**`, `**mles**` without a port, `8077/tcp` without a name.
fn expected_key(record: &ServiceRecord) -> String {
    let (label, name) = (label(record), name_with_ordinal(record));
    match (
        &record.name,
        record.port.is_some() || record.protocol.is_some(),
    ) {
        (Some(_), true) => format!("{label} **{name}**"),
        (Some(_), false) => format!("**{name}**"),
        (None, _) => label,
    }
}

/// How a line names a record it replaced, in its `(was ...)`: `8077/tcp mles`, `argus` for a
/// name without a port, `5541-5549 Unassigned` (by its description) for an entry without one.
pub(crate) fn replaced_name(record: &ServiceRecord) -> String {
    let (label, name) = (label(record), name_with_ordinal(record));
    let has_port = record.port.is_some() || record.protocol.is_some();
    match (&record.name, &record.description) {
        (Some(_), _) if has_port => format!("{label} {name}"),
        (Some(_), _) => name,
        (None, Some(description)) => format!("{label} {description}"),
        (None, None) => label,
    }
}

/// One line of a grouped report as it reads: its group's title, how it names its record, and
/// how it names each record it replaced.
pub(crate) struct ShownLine {
    pub group: String,
    pub key: String,
    pub replaced: Vec<String>,
}

/// The names in what a line says it replaced: `... (was 8077/tcp mles; 8077/udp mles)`.
/// A modification says `field: old -> new` instead, where `(was` may be the registry's own
/// words.
pub(crate) fn replaced_names(group: &str, details: &str) -> Vec<String> {
    if group == "Modified" {
        return Vec::new();
    }
    let Some(inside) = details.strip_suffix(')') else {
        return Vec::new();
    };
    match inside.rfind("(was ") {
        Some(at) => inside[at + "(was ".len()..]
            .split("; ")
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    }
}

/// The lines of a Markdown report, unescaped: `- KEY` or `- KEY: DETAILS` under `### Group (n)`.
fn shown_in_markdown(markdown: &str) -> Vec<ShownLine> {
    let mut group = String::new();
    let mut shown = Vec::new();
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            group = heading.rsplit_once(" (").unwrap().0.to_string();
        } else if let Some(item) = line.strip_prefix("- ") {
            let item = unescape(item);
            let (key, details) = item.split_once(": ").unwrap_or((&item, ""));
            shown.push(ShownLine {
                replaced: replaced_names(&group, details),
                group: group.clone(),
                key: key.to_string(),
            });
        }
    }
    shown
}

/// Every record of every change, before and after, is in the report, named exactly (a whole
/// key or a whole name between `(was`, `; ` and `)`, never part of one: `80/tcp` is not
/// `8080/tcp`): as a line's own record (named by `key_of`), or, for a record that is gone, as
/// what a line replaced. And the report names nothing that is not in a change.
pub(crate) fn assert_every_change_shown(
    shown: &[ShownLine],
    changes: &[Change<ServiceRecord>],
    key_of: impl Fn(&ServiceRecord) -> String,
    context: &str,
) {
    let keys: HashSet<&str> = shown.iter().map(|l| l.key.as_str()).collect();
    let replaced: HashSet<&str> = shown
        .iter()
        .flat_map(|l| l.replaced.iter().map(String::as_str))
        .collect();
    for change in changes {
        for record in change.before.iter().chain(&change.after) {
            let as_line = keys.contains(key_of(record).as_str());
            let as_replaced =
                change.after.is_none() && replaced.contains(replaced_name(record).as_str());
            assert!(
                as_line || as_replaced,
                "{context}: {change:?} is not in the report"
            );
        }
    }
    let change_keys: HashSet<String> = changes
        .iter()
        .flat_map(|c| c.before.iter().chain(&c.after))
        .map(&key_of)
        .collect();
    let gone: HashSet<String> = changes
        .iter()
        .filter(|c| c.after.is_none())
        .filter_map(|c| c.before.as_ref())
        .map(replaced_name)
        .collect();
    for line in shown {
        assert!(
            change_keys.contains(&line.key),
            "{context}: {} ({}) is no change's record",
            line.key,
            line.group
        );
        for name in &line.replaced {
            assert!(
                gone.contains(name),
                "{context}: {} replaced {name}, which is no removed record",
                line.key
            );
        }
    }
}

fn diff_json(db: &Path, from: &str, to: &str) -> Vec<Change<ServiceRecord>> {
    serde_json::from_str(&ok(portreg(db, &["diff", from, to, "--format", "json"]))).unwrap()
}

/// Checks a Markdown report against the report lines it must show: its headings, one item per
/// line in the table's order, and nothing left unescaped.
fn assert_lists_each_line_once(markdown: &str, lines: &[Line<ServiceRecord>]) {
    let items: Vec<&str> = markdown.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(items.len(), lines.len(), "{markdown}");
    for (item, line) in items.iter().zip(lines) {
        let plain = unescape(item);
        let key = format!("- {}", expected_key(&line.record));
        assert!(
            plain == key || plain.starts_with(&format!("{key}: ")),
            "{key:?} does not start {plain:?}"
        );
        // The bold markers are the only formatting left.
        let specials = unescaped_specials(item);
        let bold = if line.record.name.is_some() { 4 } else { 0 };
        assert_eq!(specials.len(), bold, "{item}: {specials:?}");
        assert!(specials.iter().all(|&c| c == '*'), "{item}");
    }
    for group in portreg::report::Group::ALL {
        let count = lines.iter().filter(|l| l.group == group).count();
        let heading = format!("### {} ({count})", group.title());
        assert_eq!(
            markdown.lines().filter(|l| *l == heading).count(),
            usize::from(count > 0),
            "{heading} in {markdown}"
        );
    }
}

#[test]
fn a_real_diff_in_markdown_lists_every_report_line_once() {
    let (_dir, db) = temp_db();
    // 2017-03-17 -> 2018-12-19: 209 added, 55 removed, 75 modified, ranges split and
    // de-assignments among them.
    import(&db, &paths(&[3, 4]));
    let changes = diff_json(&db, "1", "2");
    assert_eq!(changes.len(), 209 + 55 + 75);
    let lines = group_changes(&changes);
    let markdown = ok(portreg(&db, &["diff", "1", "2", "--format", "markdown"]));
    assert_eq!(
        markdown.lines().next().unwrap(),
        "## Changes from snapshot 1 (registry 2017-03-17) to snapshot 2 (registry 2018-12-19)"
    );
    assert_lists_each_line_once(&markdown, &lines);

    assert_every_change_shown(
        &shown_in_markdown(&markdown),
        &changes,
        expected_key,
        "1 -> 2",
    );
    // Ranges split there: their pieces are the last group, with the range each came from.
    let redrawn: Vec<&Line<ServiceRecord>> = lines
        .iter()
        .filter(|l| l.group == portreg::report::Group::Redrawn)
        .collect();
    assert!(redrawn.len() > 10, "{}", redrawn.len());
    assert!(
        markdown.contains(&format!(
            "\n### Unassigned ranges redrawn ({})\n",
            redrawn.len()
        )),
        "{markdown}"
    );
}

/// Every record of the JSON is in the Markdown, on real diffs: a year of changes with ranges
/// split and services de-assigned, one version (2024-01-05), and the whole span, first to last.
#[test]
fn every_change_of_a_real_diff_is_in_its_markdown() {
    for (from, to) in [(3, 4), (15, 16), (0, 20)] {
        let (_dir, db) = temp_db();
        import(&db, &paths(&[from, to]));
        let changes = diff_json(&db, "1", "2");
        let markdown = ok(portreg(&db, &["diff", "1", "2", "--format", "markdown"]));
        let shown = shown_in_markdown(&markdown);
        let context = format!("fixtures {from} -> {to}");
        assert_lists_each_line_once(&markdown, &group_changes(&changes));
        assert_every_change_shown(&shown, &changes, expected_key, &context);
        // Counted: the records of the JSON against the names in the Markdown.
        let records = changes
            .iter()
            .map(|c| c.before.iter().chain(&c.after).count())
            .sum::<usize>();
        let names: usize = shown.iter().map(|l| 1 + l.replaced.len()).sum();
        eprintln!(
            "{context}: {} changes, {records} records; {} lines naming {names} records",
            changes.len(),
            shown.len()
        );
        assert!(changes.len() > 5, "{context}");
    }
}

/// The check above fails when a record is left out, when a longer port stands for it (`8080/tcp`
/// is not `80/tcp`), and when the report names what no change holds.
#[test]
fn the_every_change_check_matches_whole_names_only() {
    let record = |name: Option<&str>, port: &str, description: &str| ServiceRecord {
        name: name.map(str::to_string),
        protocol: Some("tcp".into()),
        port: Some(port.into()),
        description: Some(description.into()),
        ..ServiceRecord::default()
    };
    let changes = vec![
        Change::between(Some(record(None, "80-90", "Unassigned")), None).unwrap(),
        Change::between(None, Some(record(Some("http"), "80", "HTTP"))).unwrap(),
    ];
    let check = |markdown: &str| {
        let shown = shown_in_markdown(markdown);
        std::panic::catch_unwind(|| {
            assert_every_change_shown(&shown, &changes, expected_key, "synthetic")
        })
        .is_ok()
    };
    let header = "## t\n\n### Newly assigned (1)\n\n";
    assert!(check(&format!(
        "{header}- 80/tcp **http**: HTTP (was 80-90/tcp Unassigned)\n"
    )));
    // The range it replaced left out, or named by a longer one.
    assert!(!check(&format!("{header}- 80/tcp **http**: HTTP\n")));
    assert!(!check(&format!(
        "{header}- 80/tcp **http**: HTTP (was 80-900/tcp Unassigned)\n"
    )));
    assert!(!check(&format!(
        "{header}- 8080/tcp **http**: HTTP (was 80-90/tcp Unassigned)\n"
    )));
    // A line that is no change's record.
    assert!(!check(&format!(
        "{header}- 80/tcp **http**: HTTP (was 80-90/tcp Unassigned)\n- 81/tcp: Reserved\n"
    )));
}

#[test]
fn real_values_with_markup_stay_one_item_each() {
    let (_dir, db) = temp_db();
    // 2024-01-12 -> 2025-11-14: `pblr` came with `enabled=<true|false>` in its note.
    import(&db, &paths(&[17, 18]));
    let lines = group_changes(&diff_json(&db, "1", "2"));
    let markdown = ok(portreg(&db, &["diff", "1", "2", "--format", "markdown"]));
    assert_lists_each_line_once(&markdown, &lines);
    assert!(
        markdown.contains(
            "\n- -/tcp **pblr**: Peblar EV charger — Defined TXT keys: enabled=\\<true\\|false> API is enabled/disabled accmode=\\<read\\|readwrite> Access mode of the API"
        ),
        "{markdown}"
    );
    // Contact ids have underscores: escaped, not emphasis.
    assert!(markdown.contains("\\_"), "{markdown}");
}

#[test]
fn a_de_assignment_and_an_assignment_read_as_the_table_reads_them() {
    let (_dir, db) = temp_db();
    // 2023-12-27 -> 2024-01-05: mles gives up 8077/tcp, qftest-licserve takes 5543/tcp.
    import(&db, &paths(&[15, 16]));
    let markdown = ok(portreg(&db, &["diff", "1", "2", "--format", "markdown"]));
    assert_eq!(
        markdown,
        "## Changes from snapshot 1 (registry 2023-12-27) to snapshot 2 (registry 2024-01-05)\n\
         \n\
         ### Newly assigned (2)\n\
         \n\
         - 5543/tcp **qftest-licserve**: QF-Test License Server (was 5541-5549 Unassigned)\n\
         - -/tcp **mles**: Mles is a client-server data distribution protocol targeted to serve as a lightweight and reliable distributed publish/subscribe database service. — Defined TXT keys: None\n\
         \n\
         ### De-assigned or reserved (2)\n\
         \n\
         - 5543/udp: Reserved\n\
         - 8077/tcp: Reserved — De-Assigned on 2024-01-05. (was 8077/tcp mles)\n\
         \n\
         ### Unassigned ranges redrawn (2)\n\
         \n\
         - 5541-5542: Unassigned (was 5541-5549 Unassigned)\n\
         - 5544-5549: Unassigned (was 5541-5549 Unassigned)\n"
    );
    // The same pair, the other way round: the service comes back.
    let back = ok(portreg(&db, &["diff", "2", "1", "--format", "markdown"]));
    assert!(
        back.contains("- 8077/tcp **mles**: Mles is a client-server"),
        "{back}"
    );
    let nothing = ok(portreg(&db, &["diff", "2", "2", "--format", "markdown"]));
    assert_eq!(
        nothing,
        "## Changes from snapshot 2 (registry 2024-01-05) to snapshot 2 (registry 2024-01-05)\n\nNo changes.\n"
    );
}

#[test]
fn changes_in_markdown_from_history_and_from_registry_dates() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[18, 19, 20]));
    // From the stored history: the same lines as `diff`.
    let since = ok(portreg(
        &db,
        &["changes", "--since", "2025-11-15", "--format", "markdown"],
    ));
    let diff = ok(portreg(&db, &["diff", "1", "3", "--format", "markdown"]));
    assert_eq!(since, diff);
    assert!(
        since.contains("- 1980/udp **panquest-xact**: PanQuest XACT (was 1980/udp pearldoc-xact)"),
        "{since}"
    );

    // From the registry's own dates: one item per record the JSON lists.
    let args = ["changes", "--since", "2025-06", "--source", "registry"];
    let json: Vec<Change<ServiceRecord>> = serde_json::from_str(&ok(portreg(
        &db,
        &[&args[..], &["--format", "json"]].concat(),
    )))
    .unwrap();
    let markdown = ok(portreg(
        &db,
        &[&args[..], &["--format", "markdown"]].concat(),
    ));
    assert!(json.len() > 20, "{}", json.len());
    assert_eq!(
        markdown.lines().next().unwrap(),
        "## Records of snapshot 3 (registry 2025-12-15) registered or modified on or after 2025-06-01, by the registry's own dates"
    );
    let items: Vec<String> = markdown
        .lines()
        .filter(|l| l.starts_with("- "))
        .map(unescape)
        .collect();
    assert_eq!(items.len(), json.len(), "{markdown}");
    for change in &json {
        let record = change.after.as_ref().unwrap();
        let key = format!("- {}", expected_key(record));
        assert_eq!(
            items
                .iter()
                .filter(|i| i.starts_with(&format!("{key}:")))
                .count(),
            1,
            "{key}"
        );
    }
}
