//! Which IANA registry: the ones portreg keeps. Everything about a registry, its name, root id
//! and URL included ([`RegistryInfo`]), is its record's ([`super::Record`]), written in its own
//! module; this file lists them and goes from one to its record type.

use std::fmt;
use std::str::FromStr;

/// An IANA registry portreg keeps the history of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Registry {
    /// Service Name and Transport Protocol Port Number Registry (`/etc/services`).
    Services,
    /// Assigned Internet Protocol Numbers (`/etc/protocols`).
    Protocols,
}

/// What names a registry and says where IANA publishes it: written in its record's module
/// (`Record::INFO`), so that a registry's particulars live in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryInfo {
    /// Its short name: `--registry`, and the `registry` column of `snapshot`.
    pub name: &'static str,
    /// The `id` of its document's root `<registry>`.
    pub root_id: &'static str,
    /// Where IANA publishes it.
    pub url: &'static str,
    /// Its name at IANA.
    pub iana_name: &'static str,
    /// Its document's file name, as IANA and the mirrors name it.
    pub file_name: &'static str,
    /// How messages name it (`the port registry`).
    pub title: &'static str,
    /// How a chart or a page names it, after "The IANA".
    pub subject: &'static str,
    /// What an assigned record of it has (`a service name`).
    pub record_name: &'static str,
}

impl Registry {
    /// Every registry, in the order they are listed.
    pub const ALL: [Registry; 2] = [Registry::Services, Registry::Protocols];

    /// Its particulars, from its record's module.
    pub fn info(self) -> &'static RegistryInfo {
        crate::with_record_type!(self, R => &<R as crate::model::Record>::INFO)
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn root_id(self) -> &'static str {
        self.info().root_id
    }

    pub fn url(self) -> &'static str {
        self.info().url
    }

    /// IANA's page of it for people.
    pub fn page_url(self) -> String {
        self.url().replace(".xml", ".xhtml")
    }

    pub fn iana_name(self) -> &'static str {
        self.info().iana_name
    }

    pub fn file_name(self) -> &'static str {
        self.info().file_name
    }

    pub fn title(self) -> &'static str {
        self.info().title
    }

    pub fn subject(self) -> &'static str {
        self.info().subject
    }

    pub fn record_name(self) -> &'static str {
        self.info().record_name
    }

    /// The registry whose documents have this root id.
    pub fn of_root_id(id: &str) -> Option<Registry> {
        Registry::ALL.into_iter().find(|r| r.root_id() == id)
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Registry {
    type Err = String;

    fn from_str(text: &str) -> Result<Registry, String> {
        Registry::ALL
            .into_iter()
            .find(|r| r.name() == text)
            .ok_or_else(|| format!("{text:?} is not a registry: expected services or protocols"))
    }
}

impl rusqlite::ToSql for Registry {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.name().into())
    }
}

impl rusqlite::types::FromSql for Registry {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

/// Runs `$body` with `$R` the record type of `$registry`: the one place that goes from which
/// registry to its record's type (adding a registry adds an arm).
#[macro_export]
macro_rules! with_record_type {
    ($registry:expr, $R:ident => $body:expr) => {
        match $registry {
            $crate::model::Registry::Services => {
                type $R = $crate::model::ServiceRecord;
                $body
            }
            $crate::model::Registry::Protocols => {
                type $R = $crate::model::ProtocolRecord;
                $body
            }
        }
    };
}
