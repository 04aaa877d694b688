//! `feed`: the Atom feed of the history, read back with a real feed parser (feed-rs) and held
//! against `portreg snapshots` and `portreg diff` on real versions.

use crate::fixtures::real_versions;
use crate::markdown::{ShownLine, assert_every_change_shown, replaced_names};
use crate::support::*;
use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType};
use portreg::model::key_label;
use portreg::model::{Change, ServiceRecord};
use portreg::report::group_changes;
use serde_json::Value;
use std::path::Path;

const IANA_PAGE: &str =
    "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xhtml";

fn parse(xml: &str) -> Feed {
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("the feed parses");
    assert_eq!(feed.feed_type, FeedType::Atom);
    feed
}

fn snapshots(db: &Path) -> Vec<Value> {
    serde_json::from_str(&ok(portreg(db, &["snapshots", "--format", "json"]))).unwrap()
}

fn title(entry: &Entry) -> &str {
    &entry.title.as_ref().expect("an entry has a title").content
}

fn html(entry: &Entry) -> &str {
    let content = entry.content.as_ref().expect("an entry has content");
    assert_eq!(content.content_type.to_string(), "text/html");
    content.body.as_deref().unwrap_or_default()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The entry of the snapshot with this registry date.
fn entry_of<'a>(feed: &'a Feed, registry_date: &str) -> &'a Entry {
    let prefix = format!("Registry {registry_date}:");
    feed.entries
        .iter()
        .find(|e| title(e).starts_with(&prefix))
        .unwrap_or_else(|| panic!("no entry for {registry_date}"))
}

#[test]
fn the_feed_has_an_entry_per_snapshot_newest_first_as_snapshots_and_diff_tell_it() {
    let (_dir, db) = temp_db();
    let n = real_versions().len();
    import(&db, &paths(&(0..n).collect::<Vec<_>>()));
    let rows = snapshots(&db);
    assert_eq!(rows.len(), 19);

    // The default limit (20) is more than the history holds: every snapshot.
    let xml = ok(portreg(&db, &["feed"]));
    let feed = parse(&xml);
    assert_eq!(feed.entries.len(), 19);
    assert_eq!(feed.id, "urn:uuid:18d038be-c489-4b53-bbca-96c2e3d99c57");
    assert!(title_of_feed(&feed).contains("Port Number Registry"));
    assert_eq!(feed.authors[0].name, "IANA");
    let alternate = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .unwrap();
    assert_eq!(alternate.href, IANA_PAGE);
    let generator = feed.generator.as_ref().unwrap();
    assert_eq!(generator.content, "portreg");
    assert_eq!(
        generator.version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );

    // Newest first, each entry named by its document's sha256, titled with its registry date
    // and the counts of `portreg snapshots`, dated when it was observed.
    for (entry, row) in feed.entries.iter().zip(rows.iter().rev()) {
        let date = row["registry_date"].as_str().unwrap();
        assert_eq!(
            entry.id,
            format!("nih:sha-256;{}", row["sha256"].as_str().unwrap())
        );
        let expected = match row["added"].as_i64() {
            Some(added) => format!(
                "Registry {date}: {added} added, {} removed, {} modified",
                row["removed"], row["modified"]
            ),
            None => format!(
                "Registry {date}: first snapshot, {} records",
                row["records"]
            ),
        };
        assert_eq!(title(entry), expected);
        assert_eq!(
            entry.updated,
            Some(time(row["observed_at"].as_str().unwrap()))
        );
    }
    assert_eq!(
        title(&feed.entries[18]),
        "Registry 2017-03-10: first snapshot, 13955 records"
    );
    assert!(html(&feed.entries[18]).contains("The first snapshot of this history"));
    // The feed was last updated when its newest entry was observed.
    assert_eq!(feed.updated, feed.entries[0].updated);

    // Each entry holds one table row per line of the grouped report of its diff.
    for pair in rows.windows(2) {
        let (from, to) = (pair[0]["id"].to_string(), pair[1]["id"].to_string());
        let changes: Vec<Change<ServiceRecord>> =
            serde_json::from_str(&ok(portreg(&db, &["diff", &from, &to, "--format", "json"])))
                .unwrap();
        let entry = entry_of(&feed, pair[1]["registry_date"].as_str().unwrap());
        assert_eq!(
            html(entry).matches("<tr><td>").count(),
            group_changes(&changes).len(),
            "{}",
            title(entry)
        );
        // And every record of every change is in it, named exactly.
        assert_every_change_shown(&shown_in_html(html(entry)), &changes, row_key, title(entry));
    }

    // Known real changes, as `portreg changes` groups them.
    let rename = html(entry_of(&feed, "2025-11-20"));
    assert!(rename.contains("<h3>Newly assigned (2)</h3>"), "{rename}");
    assert_eq!(rename.matches("<h3>").count(), 1, "{rename}");
    for protocol in ["tcp", "udp"] {
        let row = format!(
            "<tr><td>1980/{protocol}</td><td>panquest-xact</td><td>PanQuest XACT (was 1980/{protocol} pearldoc-xact)</td></tr>"
        );
        assert!(rename.contains(&row), "{row} not in {rename}");
    }
    let deassigned = html(entry_of(&feed, "2024-01-05"));
    for expected in [
        "<h3>Newly assigned (2)</h3>",
        "<tr><td>5543/tcp</td><td>qftest-licserve</td><td>QF-Test License Server (was 5541-5549 Unassigned)</td></tr>",
        "<h3>De-assigned or reserved (2)</h3>",
        "<tr><td>8077/tcp</td><td></td><td>Reserved — De-Assigned on 2024-01-05. (was 8077/tcp mles)</td></tr>",
        "<h3>Unassigned ranges redrawn (2)</h3>",
        "<tr><td>5541-5542</td><td></td><td>Unassigned (was 5541-5549 Unassigned)</td></tr>",
        "<tr><td>5544-5549</td><td></td><td>Unassigned (was 5541-5549 Unassigned)</td></tr>",
    ] {
        assert!(
            deassigned.contains(expected),
            "{expected} not in {deassigned}"
        );
    }
    // A real value with markup in it stays text.
    let markup = html(entry_of(&feed, "2025-11-14"));
    assert!(
        markup.contains("Defined TXT keys: enabled=&lt;true|false&gt; API is enabled/disabled"),
        "{markup}"
    );
    assert!(
        markup.contains(&format!("<a href=\"{IANA_PAGE}\">")),
        "{markup}"
    );

    // The same history gives the same bytes.
    assert_eq!(ok(portreg(&db, &["feed"])), xml);
}

/// What HTML shows for an escaped value.
fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A table row's port and name cells, as the feed writes them for a record.
fn row_key(record: &ServiceRecord) -> String {
    let mut name = record.name.clone().unwrap_or_default();
    if record.ordinal > 1 {
        name.push_str(&format!(" #{}", record.ordinal));
    }
    let label = key_label(
        record.name.as_deref(),
        record.protocol.as_deref(),
        record.port.as_deref(),
    );
    format!("{label}\t{name}")
}

/// The rows of an entry's report: `<h3>Group (n)</h3>`, then `<tr><td>port</td><td>name</td>
/// <td>what</td></tr>` per line.
fn shown_in_html(html: &str) -> Vec<ShownLine> {
    let mut group = String::new();
    let mut shown = Vec::new();
    for line in html.lines() {
        if let Some(heading) = line.strip_prefix("<h3>") {
            group = heading.rsplit_once(" (").unwrap().0.to_string();
        } else if let Some(row) = line
            .strip_prefix("<tr><td>")
            .and_then(|r| r.strip_suffix("</td></tr>"))
        {
            let cells: Vec<String> = row.split("</td><td>").map(unescape_html).collect();
            assert_eq!(cells.len(), 3, "{line}");
            shown.push(ShownLine {
                replaced: replaced_names(&group, &cells[2]),
                key: format!("{}\t{}", cells[0], cells[1]),
                group: group.clone(),
            });
        }
    }
    shown
}

fn title_of_feed(feed: &Feed) -> &str {
    &feed.title.as_ref().unwrap().content
}

#[test]
fn limit_takes_the_newest_snapshots_and_zero_is_refused() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[17, 18, 19, 20]));
    let rows = snapshots(&db);
    let two = parse(&ok(portreg(&db, &["feed", "--limit", "2"])));
    let ids: Vec<&str> = two.entries.iter().map(|e| e.id.as_str()).collect();
    let newest: Vec<String> = rows
        .iter()
        .rev()
        .take(2)
        .map(|r| format!("nih:sha-256;{}", r["sha256"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, newest);
    // The second-oldest snapshot is not the first of the history: it has counts.
    let all = parse(&ok(portreg(&db, &["feed", "--limit", "1000"])));
    assert_eq!(all.entries.len(), 4);
    assert!(title(&all.entries[2]).contains(" added, "));
    assert!(title(&all.entries[3]).contains("first snapshot"));

    let zero = portreg(&db, &["feed", "--limit", "0"]);
    assert_eq!(zero.code, 2);
    assert!(
        zero.stderr.contains("a feed needs at least 1 entry"),
        "{}",
        zero.stderr
    );
    assert_eq!(zero.stdout, "");
}

#[test]
fn an_empty_history_has_no_feed() {
    let (_dir, db) = temp_db();
    empty_database(&db);
    let run = portreg(&db, &["feed"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "portreg: the database holds no snapshots yet (run `portreg import FILE` or `portreg fetch`)\n"
    );
    assert_eq!(run.stdout, "");
}

#[cfg(unix)]
#[test]
fn output_file_is_replaced_atomically_readable_and_leaves_no_temp_file() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, db) = temp_db();
    import(&db, &paths(&[19, 20]));
    let site = tempfile::tempdir().unwrap();
    let target = site.path().join("portreg.atom");
    let target_arg = target.display().to_string();
    let listing = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(site.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let mode = || std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;

    assert_eq!(ok(portreg(&db, &["feed", "-o", &target_arg])), "");
    assert_eq!(listing(), ["portreg.atom"]);
    // As a shell's `>` would make it (0644 with the usual umask): a web server running as
    // another user can read it.
    assert_eq!(mode(), 0o666 & !umask());
    let written = std::fs::read_to_string(&target).unwrap();
    assert_eq!(written, ok(portreg(&db, &["feed"])));
    assert_eq!(parse(&written).entries.len(), 2);

    // The same feed again leaves the file as it is, modification time included, so a web
    // server answers feed readers' conditional requests with 304.
    let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    ok(portreg(&db, &["feed", "-o", &target_arg]));
    let modified = std::fs::metadata(&target).unwrap().modified().unwrap();
    assert_eq!(modified, long_ago);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written);

    // Replacing it keeps the permissions it was given.
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    ok(portreg(
        &db,
        &["feed", "--limit", "1", "--output", &target_arg],
    ));
    assert_eq!(listing(), ["portreg.atom"]);
    assert_eq!(mode(), 0o640);
    assert_eq!(
        parse(&std::fs::read_to_string(&target).unwrap())
            .entries
            .len(),
        1
    );

    // A directory that is not there: one line, nothing written.
    let missing = site.path().join("missing").join("portreg.atom");
    let run = portreg(&db, &["feed", "-o", &missing.display().to_string()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "portreg: cannot write {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert_eq!(listing(), ["portreg.atom"]);
}
