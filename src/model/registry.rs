//! Which IANA registry: the ones portreg keeps, each with its name, its document's root id
//! and where IANA publishes it. Everything else about a registry is its record's
//! ([`super::Record`]), written in its own module.

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

impl Registry {
    /// Every registry, in the order they are listed.
    pub const ALL: [Registry; 2] = [Registry::Services, Registry::Protocols];

    /// Its short name: `--registry`, and the `registry` column of `snapshot`.
    pub fn name(self) -> &'static str {
        match self {
            Registry::Services => "services",
            Registry::Protocols => "protocols",
        }
    }

    /// The `id` of its document's root `<registry>`.
    pub fn root_id(self) -> &'static str {
        match self {
            Registry::Services => "service-names-port-numbers",
            Registry::Protocols => "protocol-numbers",
        }
    }

    /// Where IANA publishes it.
    pub fn url(self) -> &'static str {
        match self {
            Registry::Services => {
                "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml"
            }
            Registry::Protocols => {
                "https://www.iana.org/assignments/protocol-numbers/protocol-numbers.xml"
            }
        }
    }

    /// IANA's page of it for people.
    pub fn page_url(self) -> String {
        self.url().replace(".xml", ".xhtml")
    }

    /// Its name at IANA.
    pub fn iana_name(self) -> &'static str {
        match self {
            Registry::Services => "IANA Service Name and Transport Protocol Port Number Registry",
            Registry::Protocols => "IANA Assigned Internet Protocol Numbers",
        }
    }

    /// Its document's file name, as IANA and the mirrors name it.
    pub fn file_name(self) -> &'static str {
        match self {
            Registry::Services => "service-names-port-numbers.xml",
            Registry::Protocols => "protocol-numbers.xml",
        }
    }

    /// How messages name it.
    pub fn title(self) -> &'static str {
        match self {
            Registry::Services => "the port registry",
            Registry::Protocols => "the protocol numbers registry",
        }
    }

    /// How a chart or a page names it, after "The IANA".
    pub fn subject(self) -> &'static str {
        match self {
            Registry::Services => "service name and port number registry",
            Registry::Protocols => "protocol numbers registry",
        }
    }

    /// What an assigned record of it has: a service name, a keyword.
    pub fn record_name(self) -> &'static str {
        match self {
            Registry::Services => "a service name",
            Registry::Protocols => "a keyword",
        }
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
