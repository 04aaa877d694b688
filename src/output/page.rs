//! `portreg serve`'s page at `/`: one plain HTML document made on the server, with no script
//! and nothing loaded from elsewhere, readable on a phone and a desktop: a lookup box and its
//! answer, the chart, the latest versions with their changes grouped as `changes` groups
//! them, and links to the feed, the exports and the API.

use super::atom::entry_title;
use super::grouped::{html, html_text};
use super::records::summary;
use crate::feed::Feed;
use crate::model::{Record, Registry, name_with_ordinal};
use crate::store::SnapshotRow;
use std::io::{self, Write};

/// What the page shows.
pub struct Page<'a, R: Record> {
    /// What was asked in the box, if anything.
    pub query: Option<&'a str>,
    /// Its answer: the records, or why there is none.
    pub found: Option<Result<Vec<R>, String>>,
    /// The newest snapshot, if the history has one, and how many the history holds.
    pub latest: Option<SnapshotRow>,
    pub snapshots: usize,
    /// The newest versions with their changes.
    pub recent: Option<Feed<R>>,
}

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#222}\
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.6rem}h3{font-size:1rem}\
nav a,footer a{margin-right:1rem}form{display:flex;gap:.5rem;flex-wrap:wrap;margin:1rem 0}\
input[type=search]{flex:1 1 14rem;font-size:1rem;padding:.45rem}button{font-size:1rem;padding:.45rem 1rem}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.4rem 0}\
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f4f4f4}img{max-width:100%;height:auto}.error{color:#a00}.muted{color:#666}";

/// Writes the page of `R`'s registry.
pub fn page<R: Record>(out: &mut impl Write, page: &Page<R>) -> io::Result<()> {
    let registry = R::REGISTRY;
    let title = format!("The IANA {}", registry.subject());
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} - portreg</title>\n<link rel=\"alternate\" type=\"application/atom+xml\" href=\"/feed.atom{}\">\n\
         <style>{STYLE}</style>\n</head>\n<body>",
        html_text(&title),
        registry_query(registry, "?"),
    )?;
    writeln!(out, "<header>\n<h1>{}</h1>", html_text(&title))?;
    writeln!(out, "<nav>{}</nav>", registry_links(registry))?;
    match &page.latest {
        Some(latest) => writeln!(
            out,
            "<p class=\"muted\">{} versions kept; the latest: registry {}, {} records, observed {}.</p>",
            page.snapshots, latest.registry_date, latest.records, latest.observed_at
        )?,
        None => writeln!(out, "<p class=\"muted\">No snapshot stored yet.</p>")?,
    }
    writeln!(out, "</header>\n<main>")?;
    lookup::<R>(out, page)?;
    writeln!(
        out,
        "<h2>The registry over the years</h2>\n<img src=\"/stats.svg{}\" width=\"960\" height=\"800\" alt=\"{} per year: records in each snapshot, and changes per year\">",
        registry_query(registry, "?"),
        html_text(&title)
    )?;
    recent(out, page)?;
    writeln!(out, "</main>")?;
    footer(out, registry)?;
    writeln!(out, "</body>\n</html>")
}

/// `?registry=protocols` (with `lead` first) for a registry other than the port registry.
fn registry_query(registry: Registry, lead: &str) -> String {
    match registry {
        Registry::Services => String::new(),
        other => format!("{lead}registry={other}"),
    }
}

fn registry_links(current: Registry) -> String {
    Registry::ALL
        .iter()
        .map(|&registry| {
            let name = html_text(registry.iana_name());
            if registry == current {
                format!("<strong>{name}</strong>")
            } else {
                format!("<a href=\"/{}\">{name}</a>", registry_query(registry, "?"))
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn lookup<R: Record>(out: &mut impl Write, page: &Page<R>) -> io::Result<()> {
    let registry = R::REGISTRY;
    let (label, example) = match registry {
        Registry::Services => ("A port, a range or a service name", "443, 8000-8100, https"),
        _ => ("A number, a range or a keyword", "6, 146-252, ipv6-icmp"),
    };
    writeln!(
        out,
        "<h2>Look up</h2>\n<form method=\"get\" action=\"/\">\n\
         <label for=\"q\" class=\"muted\">{label} (e.g. {example})</label>\n\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" autofocus>\n{}<button type=\"submit\">Show</button>\n</form>",
        html_text(page.query.unwrap_or_default()),
        match registry {
            Registry::Services => String::new(),
            other => format!("<input type=\"hidden\" name=\"registry\" value=\"{other}\">\n"),
        }
    )?;
    match &page.found {
        None => Ok(()),
        Some(Err(message)) => writeln!(out, "<p class=\"error\">{}</p>", html_text(message)),
        Some(Ok(records)) if records.is_empty() => {
            writeln!(out, "<p id=\"answer\">No records.</p>")
        }
        Some(Ok(records)) => {
            writeln!(
                out,
                "<div class=\"scroll\"><table id=\"answer\">\n<thead><tr><th>{}</th><th>name</th><th>description</th><th>{}</th><th>registered</th><th>modified</th></tr></thead>\n<tbody>",
                R::LABEL_HEADER,
                R::OWNERS_HEADER
            )?;
            for record in records {
                writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    html_text(&record.label()),
                    html_text(&name_with_ordinal(record)),
                    html_text(&summary(record)),
                    html_text(&record.owners().unwrap_or_default().join(", ")),
                    html_text(record.registered().unwrap_or_default()),
                    html_text(record.modified().unwrap_or_default()),
                )?;
            }
            writeln!(out, "</tbody>\n</table></div>")
        }
    }
}

fn recent<R: Record>(out: &mut impl Write, page: &Page<R>) -> io::Result<()> {
    writeln!(out, "<h2>Latest changes</h2>")?;
    let Some(feed) = &page.recent else {
        return writeln!(out, "<p class=\"muted\">None yet.</p>");
    };
    for entry in feed.entries() {
        writeln!(
            out,
            "<section>\n<h3>{}</h3>\n<div class=\"scroll\">{}</div>\n</section>",
            html_text(&entry_title(entry)),
            html(&entry.lines)
        )?;
    }
    Ok(())
}

fn footer(out: &mut impl Write, registry: Registry) -> io::Result<()> {
    let query = registry_query(registry, "?");
    let export = match registry {
        Registry::Services => {
            "<a href=\"/export/services\">services(5)</a><a href=\"/export/csv\">IANA's CSV</a>"
        }
        _ => "<a href=\"/export/protocols\">protocols(5)</a>",
    };
    writeln!(
        out,
        "<footer>\n<h2>Files and the API</h2>\n<p><a href=\"/feed.atom{query}\">Atom feed</a>{export}\
         <a href=\"/api/v1/snapshots{query}\">snapshots (JSON)</a><a href=\"/api/v1/status{query}\">status (JSON)</a></p>\n\
         <p class=\"muted\">Made by portreg {} from IANA's registry: <a href=\"{}\">{}</a>.</p>\n</footer>",
        env!("CARGO_PKG_VERSION"),
        registry.page_url(),
        html_text(registry.iana_name()),
    )
}
