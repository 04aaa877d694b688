//! A request as the command line it stands for: `/api/v1/show?q=443&proto=tcp` is `portreg
//! show --proto=tcp --format=json -- 443`, parsed by the CLI's own definition and answered by
//! the command's own code, so the JSON is the CLI's byte for byte and a bad parameter gets the
//! CLI's words. Parameter names are the options' names with `_` for `-`.

/// How a request's query parameters become a command's arguments.
pub struct Endpoint {
    /// The command, as `portreg` takes it (with fixed arguments of its own).
    pub command: &'static [&'static str],
    /// Parameters that are the command's positional arguments, in their order.
    pub positional: &'static [&'static str],
    /// Parameters that are options taking a value (`as_of` is `--as-of=VALUE`); may repeat.
    pub options: &'static [&'static str],
    /// Parameters that are flags (`never_assigned=true` is `--never-assigned`).
    pub flags: &'static [&'static str],
    /// Whether the command answers `--format json`.
    pub json: bool,
}

const fn api(
    command: &'static [&'static str],
    positional: &'static [&'static str],
    options: &'static [&'static str],
    flags: &'static [&'static str],
) -> Endpoint {
    Endpoint {
        command,
        positional,
        options,
        flags,
        json: true,
    }
}

const fn file(command: &'static [&'static str], options: &'static [&'static str]) -> Endpoint {
    Endpoint {
        command,
        positional: &[],
        options,
        flags: &[],
        json: false,
    }
}

/// The JSON API, under `/api/v1/`: each name is the command it mirrors.
pub const API: [(&str, Endpoint); 8] = [
    (
        "show",
        api(&["show"], &["q"], &["proto", "as_of"], &["assigned"]),
    ),
    (
        "search",
        api(&["search"], &["q"], &["proto", "as_of"], &["assigned"]),
    ),
    ("history", api(&["history"], &["q"], &["proto"], &[])),
    ("changes", api(&["changes"], &[], &["since", "source"], &[])),
    ("diff", api(&["diff"], &["from", "to"], &[], &[])),
    (
        "free",
        api(
            &["free"],
            &["range"],
            &["proto", "as_of"],
            &["never_assigned"],
        ),
    ),
    ("snapshots", api(&["snapshots"], &[], &[], &[])),
    ("status", api(&["status"], &[], &[], &[])),
];

/// The files beside the API, by path.
pub const FILES: [(&str, Endpoint); 5] = [
    // The feed takes no `limit`: 20 entries, as the command's default (an unbounded one
    // would be a whole history's diffs per request).
    ("/feed.atom", file(&["feed"], &[])),
    ("/stats.svg", file(&["stats", "--svg", "-"], &[])),
    (
        "/export/services",
        file(&["export", "services"], &["as_of"]),
    ),
    (
        "/export/protocols",
        file(&["export", "protocols"], &["as_of"]),
    ),
    ("/export/csv", file(&["export", "csv"], &["as_of"])),
];

/// `/raw/ID`: the snapshot's exact bytes.
pub const RAW: Endpoint = Endpoint {
    command: &["raw"],
    positional: &["id"],
    options: &[],
    flags: &[],
    json: false,
};

/// Every endpoint takes `registry`, the global option.
const REGISTRY: &str = "registry";

/// The command line a request stands for, or why it cannot be one (a 400). Options come
/// first and positionals after `--`, so no value is ever read as an option (`q=--db=x` is
/// a name to look up).
pub fn command_line(
    endpoint: &Endpoint,
    params: &[(String, String)],
) -> Result<Vec<String>, String> {
    let mut options = vec!["portreg".to_string()];
    let mut positional = vec![None; endpoint.positional.len()];
    let mut command: Vec<String> = endpoint.command.iter().map(|s| s.to_string()).collect();
    for (name, value) in params {
        let option = format!("--{}", name.replace('_', "-"));
        if name == REGISTRY {
            options.push(format!("{option}={value}"));
        } else if let Some(at) = endpoint.positional.iter().position(|p| p == name) {
            if positional[at].replace(value.clone()).is_some() {
                return Err(format!("{name} is given twice"));
            }
        } else if endpoint.options.contains(&name.as_str()) {
            command.push(format!("{option}={value}"));
        } else if endpoint.flags.contains(&name.as_str()) {
            match value.as_str() {
                "true" | "1" | "yes" | "" => command.push(option),
                "false" | "0" | "no" => {}
                _ => return Err(format!("{name} is true or false, not {value:?}")),
            }
        } else {
            return Err(unknown(endpoint, name));
        }
    }
    if endpoint.json {
        command.push("--format=json".to_string());
    }
    options.extend(command);
    options.push("--".to_string());
    // A missing positional stops the line there: the command says what it needs.
    options.extend(positional.into_iter().map_while(|value| value));
    Ok(options)
}

fn unknown(endpoint: &Endpoint, name: &str) -> String {
    let known: Vec<&str> = endpoint
        .positional
        .iter()
        .chain(endpoint.options)
        .chain(endpoint.flags)
        .chain(&[REGISTRY])
        .copied()
        .collect();
    format!(
        "unknown parameter {name:?}: this takes {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(endpoint: &Endpoint, params: &[(&str, &str)]) -> Result<String, String> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        command_line(endpoint, &params).map(|argv| argv.join(" "))
    }

    #[test]
    fn parameters_become_the_commands_arguments() {
        let show = &API[0].1;
        assert_eq!(
            line(
                show,
                &[("q", "443"), ("proto", "tcp"), ("as_of", "2019-06-01")]
            ),
            Ok("portreg show --proto=tcp --as-of=2019-06-01 --format=json -- 443".into())
        );
        let free = &API[5].1;
        assert_eq!(
            line(
                free,
                &[
                    ("range", "4700-4800"),
                    ("never_assigned", "true"),
                    ("registry", "services")
                ]
            ),
            Ok(
                "portreg --registry=services free --never-assigned --format=json -- 4700-4800"
                    .into()
            )
        );
        // A value is never an option.
        assert_eq!(
            line(show, &[("q", "--db=/etc/passwd")]),
            Ok("portreg show --format=json -- --db=/etc/passwd".into())
        );
        assert!(
            line(show, &[("q", "1"), ("db", "x")])
                .unwrap_err()
                .contains("unknown parameter")
        );
        assert!(line(free, &[("never_assigned", "maybe")]).is_err());
        assert!(line(show, &[("q", "1"), ("q", "2")]).is_err());
        let diff = &API[4].1;
        assert_eq!(
            line(diff, &[("to", "latest"), ("from", "1")]),
            Ok("portreg diff --format=json -- 1 latest".into())
        );
    }
}
