//! `portreg stats` end to end, on real registry versions: the per-year rows against the
//! snapshot list, the records of each year's last snapshot and the grouped changes of each
//! snapshot against the one before; the chart as XML; the formats.

use crate::fixtures::real_versions;
use crate::support::*;
use portreg::model::{Registry, ServiceRecord};
use portreg::report::{Group, group_changes};
use portreg::store::{Seq, Store};
use quick_xml::events::Event;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One database holding every real fixture version, shared by the tests that only read it.
fn history_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let (dir, db) = temp_db();
        import(&db, &paths(&(0..real_versions().len()).collect::<Vec<_>>()));
        (dir, db)
    })
    .1
}

/// A row of `stats --format json`; unknown keys are refused, so this pins the shape.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Year {
    year: i32,
    snapshots: i64,
    added: i64,
    removed: i64,
    modified: i64,
    records: i64,
    newly_assigned: i64,
    deassigned: i64,
    assigned: i64,
    unassigned_or_reserved: i64,
}

const KEYS: [&str; 10] = [
    "year",
    "snapshots",
    "added",
    "removed",
    "modified",
    "records",
    "newly_assigned",
    "deassigned",
    "assigned",
    "unassigned_or_reserved",
];

/// A row of `snapshots --format json`, the parts stats reads.
#[derive(Debug, Deserialize)]
struct SnapshotRow {
    id: i64,
    registry_date: String,
    records: i64,
    added: Option<i64>,
    removed: Option<i64>,
    modified: Option<i64>,
}

fn stats_years(db: &Path) -> Vec<Year> {
    serde_json::from_str(&ok(portreg(db, &["stats", "--format", "json"]))).unwrap()
}

fn snapshot_rows(db: &Path) -> Vec<SnapshotRow> {
    serde_json::from_str(&ok(portreg(db, &["snapshots", "--format", "json"]))).unwrap()
}

fn year_of(row: &SnapshotRow) -> i32 {
    row.registry_date[..4].parse().unwrap()
}

#[test]
fn each_year_sums_its_snapshots_and_ends_with_its_last_snapshots_records() {
    let db = history_db();
    let years = stats_years(db);
    let snapshots = snapshot_rows(db);
    assert_eq!(snapshots.len(), 19);

    // The keys, in their order.
    let raw: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(db, &["stats", "--format", "json"]))).unwrap();
    for row in &raw {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, KEYS);
    }

    // The same sums, made here from the snapshot list (null counts as 0).
    let mut expected: BTreeMap<i32, (i64, i64, i64, i64, i64, i64)> = BTreeMap::new();
    for row in &snapshots {
        let sums = expected.entry(year_of(row)).or_default();
        sums.0 += 1;
        sums.1 += row.added.unwrap_or(0);
        sums.2 += row.removed.unwrap_or(0);
        sums.3 += row.modified.unwrap_or(0);
        sums.4 = row.records;
        sums.5 = row.id;
    }
    let listed: Vec<i32> = years.iter().map(|y| y.year).collect();
    assert_eq!(listed, expected.keys().copied().collect::<Vec<_>>());
    assert_eq!(listed, [2017, 2018, 2019, 2021, 2023, 2024, 2025]);
    for year in &years {
        let (count, added, removed, modified, records, last_id) = expected[&year.year];
        assert_eq!(
            (year.snapshots, year.added, year.removed, year.modified),
            (count, added, removed, modified),
            "{}",
            year.year
        );
        assert_eq!(year.records, records, "{}", year.year);
        // The year's last snapshot's records, read with export: with and without a name.
        let records: Vec<serde_json::Value> = serde_json::from_str(&ok(portreg(
            db,
            &["export", "json", "--as-of", &last_id.to_string()],
        )))
        .unwrap();
        let named = records.iter().filter(|r| !r["name"].is_null()).count() as i64;
        assert_eq!(records.len() as i64, year.records, "{}", year.year);
        assert_eq!(
            (year.assigned, year.unassigned_or_reserved),
            (named, year.records - named),
            "{}",
            year.year
        );
    }
    // Real values, case by case. 2017: four versions of March, the first with no changes
    // before it. 2018: one snapshot, counted against March 2017 (the fixtures skip the months
    // between). 2021: six documents, two of them stale copies of others.
    let y2017 = &years[0];
    assert_eq!((y2017.snapshots, y2017.records), (4, 13_961));
    assert_eq!((y2017.added, y2017.removed, y2017.modified), (7, 1, 0));
    assert_eq!(
        (y2017.assigned, y2017.unassigned_or_reserved),
        (12_437, 1_524)
    );
    let y2018 = &years[1];
    assert_eq!((y2018.snapshots, y2018.records), (1, 14_115));
    assert_eq!((y2018.added, y2018.removed, y2018.modified), (209, 55, 75));
    let y2021 = years.iter().find(|y| y.year == 2021).unwrap();
    assert_eq!((y2021.snapshots, y2021.records), (4, 14_294));
    let latest = years.last().unwrap();
    assert_eq!(
        (latest.year, latest.snapshots, latest.records),
        (2025, 3, 14_496)
    );
    assert_eq!(latest.records, snapshots.last().unwrap().records);
}

#[test]
fn newly_assigned_and_deassigned_are_the_grouped_changes_of_each_snapshot_against_the_one_before() {
    let db = history_db();
    let years = stats_years(db);
    let store = Store::open_read_only(db).unwrap();
    let snapshots = store.snapshots(Registry::Services).unwrap();

    // The one pass over the versions finds what the store's diff finds, pair by pair.
    let versions = store.record_versions::<ServiceRecord>().unwrap();
    let consecutive = portreg::stats::consecutive_changes(&versions, snapshots.len());
    assert_eq!(consecutive.len(), snapshots.len());
    assert!(consecutive[0].is_empty());
    let mut changed_pairs = 0;
    for i in 1..snapshots.len() {
        let diff = store
            .diff::<ServiceRecord>(snapshots[i - 1].seq, snapshots[i].seq)
            .unwrap();
        assert_eq!(consecutive[i], diff, "{} -> {}", i, i + 1);
        changed_pairs += !diff.is_empty() as usize;
    }
    assert!(changed_pairs >= 15, "{changed_pairs}");

    // Grouped as `changes` groups them, summed per year of the later snapshot.
    let mut expected: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for i in 1..snapshots.len() {
        let diff = store
            .diff::<ServiceRecord>(snapshots[i - 1].seq, snapshots[i].seq)
            .unwrap();
        let lines = group_changes(&diff);
        let year: i32 = snapshots[i].registry_date.year();
        let sums = expected.entry(year).or_default();
        sums.0 += lines
            .iter()
            .filter(|l| l.group == Group::NewlyAssigned)
            .count() as i64;
        sums.1 += lines
            .iter()
            .filter(|l| l.group == Group::DeassignedOrReserved)
            .count() as i64;
    }
    for year in &years {
        let (newly, deassigned) = expected.get(&year.year).copied().unwrap_or_default();
        assert_eq!(
            (year.newly_assigned, year.deassigned),
            (newly, deassigned),
            "{}",
            year.year
        );
    }
    assert!(years.iter().map(|y| y.newly_assigned).sum::<i64>() > 50);
    assert!(years.iter().map(|y| y.deassigned).sum::<i64>() > 5);

    // And as people read them: the group headings of `diff --format markdown` for each pair
    // of 2019 (the three snapshots of January 2019, and the one of December 2018 before).
    let in_2019: Vec<usize> = (1..snapshots.len())
        .filter(|&i| snapshots[i].registry_date.year() == 2019)
        .collect();
    assert_eq!(in_2019.len(), 3);
    let mut shown = (0, 0);
    for i in in_2019 {
        let from = snapshots[i - 1].id.to_string();
        let to = snapshots[i].id.to_string();
        let markdown = ok(portreg(db, &["diff", &from, &to, "--format", "markdown"]));
        shown.0 += heading_count(&markdown, "Newly assigned");
        shown.1 += heading_count(&markdown, "De-assigned or reserved");
    }
    let y2019 = years.iter().find(|y| y.year == 2019).unwrap();
    assert_eq!((y2019.newly_assigned, y2019.deassigned), shown);
    assert!(shown.0 > 0, "{shown:?}");
}

/// N of the Markdown heading `### TITLE (N)`, 0 when there is none.
fn heading_count(markdown: &str, title: &str) -> i64 {
    let prefix = format!("### {title} (");
    markdown
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|rest| rest.trim_end_matches(')').parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn the_table_and_csv_carry_the_json_rows_and_the_table_a_total() {
    let db = history_db();
    let years = stats_years(db);

    let csv = ok(portreg(db, &["stats", "--format", "csv"]));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap(), KEYS.as_slice());
    let rows: Vec<Year> = reader.deserialize().map(Result::unwrap).collect();
    assert_eq!(rows, years);

    let table = ok(portreg(db, &["stats"]));
    let cells = |line: &str| -> Vec<String> {
        line.split(['│', '┆'])
            .map(|cell| cell.trim().to_string())
            .filter(|cell| !cell.is_empty())
            .collect()
    };
    let data: Vec<Vec<String>> = table
        .lines()
        .map(cells)
        .filter(|row| row.len() == 10 && row[1].parse::<i64>().is_ok())
        .collect();
    assert_eq!(data.len(), years.len() + 1, "{table}");
    for (row, year) in data.iter().zip(&years) {
        let want = [
            year.year,
            year.snapshots as i32,
            year.added as i32,
            year.removed as i32,
            year.modified as i32,
            year.newly_assigned as i32,
            year.deassigned as i32,
            year.records as i32,
            year.assigned as i32,
            year.unassigned_or_reserved as i32,
        ]
        .map(|n| n.to_string());
        assert_eq!(row, &want, "{table}");
    }
    let total = data.last().unwrap();
    assert_eq!(total[0], "2017-2025");
    let sum = |value: fn(&Year) -> i64| years.iter().map(value).sum::<i64>().to_string();
    assert_eq!(total[1], sum(|y| y.snapshots));
    assert_eq!(total[1], "19");
    assert_eq!(total[2], sum(|y| y.added));
    assert_eq!(total[4], sum(|y| y.modified));
    assert_eq!(total[6], sum(|y| y.deassigned));
    // Its records are those at its end, the latest snapshot's.
    assert_eq!(total[7], "14496");
    assert!(
        table.contains("newly") && table.contains("(year end)"),
        "{table}"
    );
}

#[test]
fn an_empty_database_has_no_years_and_a_chart_that_says_so() {
    let (dir, db) = temp_db();
    empty_database(&db);
    assert_eq!(
        ok(portreg(&db, &["stats", "--format", "json"])).trim(),
        "[]"
    );
    assert_eq!(
        ok(portreg(&db, &["stats", "--format", "csv"])).trim(),
        KEYS.join(",")
    );
    let table = ok(portreg(&db, &["stats"]));
    assert!(
        table.contains("snapshots") && !table.contains("2017"),
        "{table}"
    );
    let chart = dir.path().join("chart.svg");
    ok(portreg(
        &db,
        &[
            "stats",
            "--svg",
            chart.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        parse_svg(&svg)
            .texts
            .iter()
            .any(|t| t == "No snapshots stored yet.")
    );

    let (_none_dir, none) = temp_db();
    let run = portreg(&none, &["stats"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no database at"), "{}", run.stderr);
    assert!(!none.exists());
}

/// What a test reads of an SVG document: it must parse as XML from end to end.
#[derive(Default)]
struct Svg {
    texts: Vec<String>,
    /// (stroke, number of points) of each polyline.
    polylines: Vec<(String, usize)>,
    /// (fill, x, y, width, height) of each rect.
    rects: Vec<(String, f64, f64, f64, f64)>,
    /// The fill of each circle.
    circles: Vec<String>,
    root: Option<String>,
}

fn parse_svg(svg: &str) -> Svg {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut parsed = Svg::default();
    // The text of the <text> element being read, if one is.
    let mut text: Option<String> = None;
    loop {
        let event = reader.read_event().unwrap();
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let attr = |key: &str| -> String {
                    e.attributes()
                        .map(Result::unwrap)
                        .find(|a| a.key.as_ref() == key)
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned()
                        })
                        .unwrap_or_default()
                };
                let number = |key: &str| attr(key).parse::<f64>().unwrap();
                parsed.root.get_or_insert(name.clone());
                match name.as_str() {
                    "text" if matches!(event, Event::Start(_)) => text = Some(String::new()),
                    "polyline" => parsed
                        .polylines
                        .push((attr("stroke"), attr("points").split_whitespace().count())),
                    "circle" => parsed.circles.push(attr("fill")),
                    "rect" => parsed.rects.push((
                        attr("fill"),
                        number("x"),
                        number("y"),
                        number("width"),
                        number("height"),
                    )),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(text) = text.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = text.as_mut() {
                    match r.resolve_char_ref().unwrap() {
                        Some(c) => text.push(c),
                        None => text.push_str(
                            quick_xml::escape::resolve_predefined_entity(r.as_ref())
                                .expect("a predefined entity"),
                        ),
                    }
                }
            }
            Event::End(e) if e.name().as_ref() == "text" => {
                if let Some(text) = text.take() {
                    parsed.texts.push(text.trim().to_string());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    parsed
}

#[test]
fn the_chart_has_a_title_axes_legends_a_point_per_snapshot_and_a_bar_per_year_and_group() {
    let db = history_db();
    let years = stats_years(db);
    let snapshots = snapshot_rows(db);
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("registry.svg");
    // The table still goes to standard output.
    let table = ok(portreg(db, &["stats", "--svg", chart.to_str().unwrap()]));
    assert!(table.contains("2017-2025"), "{table}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    let parsed = parse_svg(&svg);
    assert_eq!(parsed.root.as_deref(), Some("svg"));
    let has = |text: &str| parsed.texts.iter().any(|t| t == text);
    assert!(
        has("The IANA service name and port number registry, 2017\u{2013}2025"),
        "{:?}",
        parsed.texts
    );
    assert!(has(
        "19 snapshots from 2017-03-10 to 2025-12-15: 13,955 records, then 14,496 (+541)."
    ));
    for label in [
        "records",
        "registry date",
        "changes in the year",
        "year (of the registry date)",
        "Records in each snapshot",
        "Changes per year",
    ] {
        assert!(has(label), "no {label:?} in {:?}", parsed.texts);
    }
    for year in 2017..=2025 {
        assert!(has(&year.to_string()), "no year {year}");
    }
    // The first and latest counts written on the curve.
    assert!(has("13,955 records") && has("14,496 records"));

    // Each legend entry: its label and a swatch of its colour.
    let legend = [
        ("assigned (a service name)", "#4E79A7"),
        ("unassigned or reserved", "#C9C3BD"),
        ("newly assigned", "#59A14F"),
        ("de-assigned or reserved", "#E15759"),
        ("modified", "#B07AA1"),
    ];
    for (label, color) in legend {
        assert!(has(label), "no legend {label:?}");
        assert!(
            parsed
                .rects
                .iter()
                .any(|r| r.0 == color && r.3 == 12.0 && r.4 == 12.0),
            "no swatch {color}"
        );
    }

    // The records curves: a point per snapshot each (the total and the assigned part).
    for edge in ["#7F7770", "#2F4F6F"] {
        let lines: Vec<usize> = parsed
            .polylines
            .iter()
            .filter(|(stroke, _)| stroke == edge)
            .map(|(_, points)| *points)
            .collect();
        assert_eq!(lines, [snapshots.len()], "{edge}");
        // Few snapshots (up to 60): each marked on both curves.
        let marks = parsed.circles.iter().filter(|fill| *fill == edge).count();
        assert_eq!(marks, snapshots.len(), "{edge}");
    }

    // A bar per year in each group, as tall as its value (to the pixel), its value over it.
    type Value = fn(&Year) -> i64;
    let groups: [(&str, Value); 3] = [
        ("#59A14F", |y| y.newly_assigned),
        ("#E15759", |y| y.deassigned),
        ("#B07AA1", |y| y.modified),
    ];
    for (color, value) in groups {
        let mut bars: Vec<_> = parsed
            .rects
            .iter()
            .filter(|r| r.0 == color && !(r.3 == 12.0 && r.4 == 12.0))
            .collect();
        assert_eq!(bars.len(), years.len(), "{color}");
        bars.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (tallest, tallest_bar) = years
            .iter()
            .zip(&bars)
            .max_by_key(|(year, _)| value(year))
            .unwrap();
        let per_change = tallest_bar.4 / value(tallest) as f64;
        for (year, bar) in years.iter().zip(&bars) {
            let expected = value(year) as f64 * per_change;
            assert!(
                (bar.4 - expected).abs() <= 1.5,
                "{color} {}: {} px for {}",
                year.year,
                bar.4,
                value(year)
            );
            assert!(has(&value(year).to_string()), "no value {}", value(year));
        }
    }
}

#[test]
fn the_chart_is_written_atomically_and_leaves_no_temp_file() {
    let db = history_db();
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    std::fs::write(&chart, "old chart").unwrap();
    // A reader that opened the old file keeps reading the old file: it was replaced by a
    // rename, not rewritten in place.
    let mut reader = std::fs::File::open(&chart).unwrap();
    let run = portreg_command(
        db,
        &["stats", "--svg", chart.to_str().unwrap(), "--format", "csv"],
    )
    .output()
    .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8(run.stdout).unwrap().starts_with("year,"));
    let mut old = String::new();
    std::io::Read::read_to_string(&mut reader, &mut old).unwrap();
    assert_eq!(old, "old chart");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["chart.svg"]);
    // Readable as a file written with `>` is (0666 less the umask, 022 here).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&chart).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask(), "{mode:o}");
    }

    // Where it cannot be written (a directory is in the way), nothing is left behind.
    let blocked = dir.path().join("blocked.svg");
    std::fs::create_dir(&blocked).unwrap();
    let run = portreg(db, &["stats", "--svg", blocked.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["blocked.svg", "chart.svg"]);
    // A missing directory: said so, nothing made.
    let nowhere = dir.path().join("missing/chart.svg");
    let run = portreg(db, &["stats", "--svg", nowhere.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("missing"), "{}", run.stderr);
    assert!(!dir.path().join("missing").exists());

    // `--svg -`: the chart on standard output, instead of the table.
    let svg = ok(portreg(db, &["stats", "--svg", "-"]));
    assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
    assert_eq!(svg, std::fs::read_to_string(&chart).unwrap());
    assert!(!Path::new("-").exists());
}

/// The one pass over the versions equals the store's diff on every consecutive pair of the
/// whole history (390 versions, 2017-2025), and is timed against it. Run by hand:
/// `cargo test --release --test cli stats::whole -- --ignored --nocapture`.
#[test]
#[ignore = "imports the 390-version history of ../shared/data/iana-history.bundle (about 15 s)"]
fn whole_history_consecutive_changes_equal_the_store_diff() {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/iana-history.bundle");
    let (_dir, db) = temp_db();
    ok(portreg(&db, &["import", "--git", bundle.to_str().unwrap()]));
    let store = Store::open_read_only(&db).unwrap();
    let snapshots = store.snapshots(Registry::Services).unwrap();
    assert_eq!(snapshots.len(), 390);

    let started = std::time::Instant::now();
    let versions = store.record_versions::<ServiceRecord>().unwrap();
    let consecutive = portreg::stats::consecutive_changes(&versions, snapshots.len());
    let one_pass = started.elapsed();

    let started = std::time::Instant::now();
    let diffs: Vec<_> = (1..snapshots.len())
        .map(|i| {
            store
                .diff::<ServiceRecord>(Seq(i as i64), Seq(i as i64 + 1))
                .unwrap()
        })
        .collect();
    let per_pair = started.elapsed();
    for (i, diff) in diffs.iter().enumerate() {
        assert_eq!(&consecutive[i + 1], diff, "{} -> {}", i + 1, i + 2);
    }
    let changes: usize = diffs.iter().map(Vec::len).sum();
    println!(
        "{changes} changes in {} pairs: one pass {one_pass:?}, a diff per pair {per_pair:?}",
        diffs.len()
    );
}
