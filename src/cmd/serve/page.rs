//! The page at `/` from the kept store: the lookup's answer, the newest versions with their
//! changes, rendered by `output::page`.

use portreg::feed::Feed;
use portreg::lookup::Lookup;
use portreg::model::Record;
use portreg::output::page::{Page, page};
use portreg::store::{RecordFilter, Seq, Store, StoreError};

/// How many of the newest versions the page shows with their changes.
const RECENT: usize = 5;

/// The page of `R`'s registry, with `query` looked up in its latest snapshot.
pub fn page_of<R: Record>(store: &Store, query: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let registry = R::REGISTRY;
    let latest = store.latest_snapshot(registry)?;
    let found = match (query.map(str::trim).filter(|q| !q.is_empty()), &latest) {
        (None, _) => None,
        (Some(_), None) => Some(Err("no snapshot stored yet".to_string())),
        (Some(text), Some(latest)) => Some(look_up::<R>(store, text, latest.seq)?),
    };
    let recent = match latest {
        Some(_) => Some(Feed::<R>::load(store, RECENT)?),
        None => None,
    };
    let snapshots = usize::try_from(store.snapshot_count(registry)?).unwrap_or_default();
    let mut body = Vec::new();
    page(
        &mut body,
        &Page {
            query,
            found,
            latest,
            snapshots,
            recent,
        },
    )?;
    Ok(body)
}

/// The records a lookup names, or what is wrong with it in `show`'s words.
fn look_up<R: Record>(
    store: &Store,
    text: &str,
    seq: Seq,
) -> Result<Result<Vec<R>, String>, StoreError> {
    let lookup = match text
        .parse::<Lookup>()
        .map_err(|e| e.to_string())
        .and_then(|lookup| lookup.for_record::<R>().map_err(|e| e.to_string()))
    {
        Ok(lookup) => lookup,
        Err(message) => return Ok(Err(message)),
    };
    let records = store.find_records::<R>(
        seq,
        &RecordFilter {
            lookup: Some(&lookup),
            text: None,
            assigned_only: false,
        },
    )?;
    Ok(Ok(records))
}
