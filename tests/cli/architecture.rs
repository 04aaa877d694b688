//! The layout docs/design.md promises, read from the sources: modules depend one way, the
//! library never imports the renderers or the commands and never renders, no file of a folder
//! imports one that imports it back, every module with files of its own is a folder with a
//! `mod.rs`, no function outside the tests is longer than 80 lines, and nothing in src/ points
//! outside the repository.
//!
//! Imports are read from paths (`crate::x`, `super::x`, `portreg::x`, `use` groups included),
//! not from types: an item a folder's `mod.rs` re-exports hides which of its files it comes
//! from, so files of one folder are compared by the paths they name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a function may be, signature to closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// Top-level modules that front ends use and the library does not.
const FRONT_ENDS: [&str; 4] = ["cmd", "cli", "output", "main"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The code of a file with comments, string and character literals blanked out (each keeps
/// its line breaks), and without its `#[cfg(test)]` module of tests (`mod tests`, of any
/// visibility), if that is its last item.
fn code(text: &str) -> String {
    let tests_module = text
        .match_indices("\n#[cfg(test)]\n")
        .find(|&(at, attribute)| {
            let item = text[at + attribute.len()..].lines().next().unwrap_or("");
            item.ends_with("mod tests {")
        });
    let text = match tests_module {
        Some((at, _)) => &text[..at],
        None => text,
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let skip_to = if rest.starts_with("//") {
            rest.find('\n').map_or(text.len(), |n| i + n)
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(text.len(), |n| i + n + 2)
        } else if let Some(raw) = rest.strip_prefix("r#\"") {
            raw.find("\"#").map_or(text.len(), |n| i + 3 + n + 2)
        } else if rest.starts_with('"') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j + 1
        } else if let Some(len) = char_literal(rest) {
            i + len
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        let skipped = &text[i..skip_to.min(text.len())];
        out.extend(skipped.chars().filter(|&c| c == '\n'));
        out.push(' ');
        i = skip_to.min(text.len());
    }
    out
}

/// The length of the character literal `text` starts with ('x', '\n', '{'), if it starts
/// with one rather than a lifetime ('a).
fn char_literal(text: &str) -> Option<usize> {
    let body = text.strip_prefix('\'')?;
    let mut chars = body.char_indices();
    match chars.next()? {
        (_, '\\') => body[1..].find('\'').map(|n| 1 + 1 + n + 1),
        (_, c) => match chars.next()? {
            (at, '\'') => Some(1 + at + 1).filter(|_| c != '\''),
            _ => None,
        },
    }
}

/// The first path segments after each `prefix` (`crate::`, `super::`, `portreg::`), braces of
/// a `use` included: `crate::{a, b::c}` names `a` and `b`.
fn segments_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            found.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// A module of tests only (`mod tests;` in its folder's `mod.rs`).
fn is_tests_file(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem == "tests")
}

/// Where a file is: its top-level module, and the folder it is in (relative to src/).
fn place(path: &Path) -> (String, PathBuf) {
    let relative = path.strip_prefix(src()).unwrap();
    let top = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string();
    (top, relative.parent().unwrap().to_path_buf())
}

/// A file's module path: `src/store/raw/mod.rs` is `store::raw`, `src/store/records.rs`
/// `store::records`, `src/lib.rs` and `src/main.rs` the crate itself.
fn module_path(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            let name = c.as_os_str().to_string_lossy();
            name.trim_end_matches(".rs").to_string()
        })
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The modules a file names by path, each as its path from the crate's root up to the first
/// segment past the prefix: `crate::a::b` and `portreg::a` name `[a]`; in module `x::y`,
/// `super::z` names `[x, z]` and `super::super::z` names `[z]`.
fn named_modules(code: &str, path: &Path) -> BTreeSet<Vec<String>> {
    let own = module_path(path);
    let mut named: BTreeSet<Vec<String>> = BTreeSet::new();
    for prefix in ["crate::", "portreg::"] {
        named.extend(segments_after(code, prefix).into_iter().map(|m| vec![m]));
    }
    for supers in 1..=own.len() {
        let base = &own[..own.len() - supers];
        for name in segments_after(code, &"super::".repeat(supers)) {
            if name != "super" {
                named.insert(base.iter().cloned().chain([name]).collect());
            }
        }
    }
    // A folder's own files named from the crate's root: `crate::store::raw::delta`.
    for depth in 2..=own.len() {
        let folder = own[..depth - 1].join("::");
        for name in segments_after(code, &format!("crate::{folder}::")) {
            named.insert(own[..depth - 1].iter().cloned().chain([name]).collect());
        }
    }
    named
}

/// The files of src/ that are not tests only.
fn code_files() -> Vec<PathBuf> {
    rust_files(&src())
        .into_iter()
        .filter(|p| !is_tests_file(p))
        .collect()
}

/// Which top-level modules each one imports.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = code_files();
    let tops: BTreeSet<String> = files.iter().map(|p| place(p).0).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let (top, _) = place(path);
        let code = code(&std::fs::read_to_string(path).unwrap());
        let used: Vec<String> = named_modules(&code, path)
            .into_iter()
            .filter_map(|named| named.first().cloned())
            .filter(|m| *m != top && tops.contains(m))
            .collect();
        graph.entry(top).or_default().extend(used);
    }
    graph
}

/// Whether `to` can be reached from `from`.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(at) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn top_level_modules_depend_one_way() {
    let graph = module_graph();
    // The reading works: edges that must be there are found.
    for (from, to) in [
        ("load", "store"),
        ("cli", "output"),
        ("cmd", "store"),
        ("store", "model"),
    ] {
        assert!(
            graph[from].contains(to),
            "{from} -> {to} not found: {graph:#?}"
        );
    }
    let mut cycles = Vec::new();
    for (module, uses) in &graph {
        for used in uses {
            if reaches(&graph, used, module) {
                cycles.push(format!("{module} -> {used} -> ... -> {module}"));
            }
        }
    }
    assert!(cycles.is_empty(), "cycles: {cycles:#?}\ngraph: {graph:#?}");
    for (module, uses) in &graph {
        if FRONT_ENDS.contains(&module.as_str()) {
            continue;
        }
        let fronts: Vec<&String> = uses
            .iter()
            .filter(|u| FRONT_ENDS.contains(&u.as_str()))
            .collect();
        assert!(fronts.is_empty(), "{module} imports {fronts:?}");
    }
    // The store imports none of the modules that call it, and nothing above the model.
    let store = &graph["store"];
    let allowed: BTreeSet<&str> = ["model", "time", "lookup", "input"].into();
    let above: Vec<&String> = store
        .iter()
        .filter(|m| !allowed.contains(m.as_str()))
        .collect();
    assert!(above.is_empty(), "store imports {above:?}");
    // The renderers render what the library returns; the command line's definition is above.
    assert!(!reaches(&graph, "output", "cli"));
}

/// The crates that render: tables, CSV, charts, XML written. Only `output/` uses them.
const RENDERING: [&str; 5] = [
    "comfy_table",
    "csv::",
    "plotters",
    "quick_xml::Writer",
    "serde_json::to_writer",
];

#[test]
fn only_the_renderers_render() {
    let mut found = Vec::new();
    for path in code_files() {
        if place(&path).0 == "output" {
            continue;
        }
        let code = code(&std::fs::read_to_string(&path).unwrap());
        for renderer in RENDERING {
            if code.contains(renderer) {
                found.push(format!("{} uses {renderer}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
    let chart = code(&std::fs::read_to_string(src().join("output/chart.rs")).unwrap());
    assert!(chart.contains("plotters"), "the check reads nothing");
}

#[test]
fn no_file_of_a_folder_imports_one_that_imports_it_back() {
    // Per folder: which of its files each one names.
    let mut folders: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in code_files() {
        let own = module_path(&path);
        if own.len() < 2 || path.file_stem().is_some_and(|stem| stem == "mod") {
            continue;
        }
        let code = code(&std::fs::read_to_string(&path).unwrap());
        let folder = &own[..own.len() - 1];
        let siblings: BTreeSet<String> = named_modules(&code, &path)
            .into_iter()
            .filter(|named| named.len() == own.len() && named[..folder.len()] == *folder)
            .filter_map(|named| named.last().cloned())
            .filter(|name| *name != own[own.len() - 1])
            .collect();
        folders
            .entry(place(&path).1)
            .or_default()
            .insert(own[own.len() - 1].clone(), siblings);
    }
    // The reading works: the parser's loop names its builder and its memo.
    let parse = &folders[Path::new("parse")];
    assert!(parse["parser"].contains("builder") && parse["parser"].contains("memo"));
    let mut cycles = Vec::new();
    for (folder, files) in &folders {
        let graph: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .map(|(file, named)| {
                let siblings = named.iter().filter(|n| files.contains_key(*n)).cloned();
                (file.clone(), siblings.collect())
            })
            .collect();
        for (file, uses) in &graph {
            for used in uses {
                if reaches(&graph, used, file) {
                    cycles.push(format!("{}: {file} -> {used}", folder.display()));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "{cycles:#?}");
}

#[test]
fn a_module_with_files_of_its_own_is_a_folder_with_a_mod_rs() {
    for path in rust_files(&src()) {
        let folder = path.with_extension("");
        assert!(
            !folder.is_dir() || path.file_stem().is_some_and(|s| s == "mod"),
            "{} beside the folder {}: make it {}/mod.rs",
            path.display(),
            folder.display(),
            folder.display()
        );
    }
    for dir in std::fs::read_dir(src()).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            assert!(
                dir.join("mod.rs").is_file(),
                "{} has no mod.rs",
                dir.display()
            );
        }
    }
}

/// Each function's name and length in lines, signature to closing brace.
fn functions(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        if !only_qualifiers(&trimmed[..at]) {
            continue;
        }
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(end) = body_end(&lines, start) {
            found.push((name, end - start + 1));
        }
    }
    found
}

/// Whether what stands before `fn ` on its line is only what may: `pub`, `pub(crate)`,
/// `pub(in crate::x)`, `const`, `async`, `unsafe`.
fn only_qualifiers(before: &str) -> bool {
    let mut rest = before.trim();
    if let Some(after) = rest.strip_prefix("pub(") {
        let Some(close) = after.find(')') else {
            return false;
        };
        rest = after[close + 1..].trim_start();
    }
    rest.split_whitespace()
        .all(|q| ["pub", "const", "async", "unsafe"].contains(&q))
}

/// The line of the `}` that closes the body of the function whose signature starts at
/// `start`; None for a declaration without a body. A `;` ends a signature only outside
/// brackets and parentheses (`[u8; 4]` is a type).
fn body_end(lines: &[&str], start: usize) -> Option<usize> {
    let (mut depth, mut nesting, mut opened) = (0, 0, false);
    for (end, text) in lines.iter().enumerate().skip(start) {
        for c in text.chars() {
            match c {
                '(' | '[' if !opened => nesting += 1,
                ')' | ']' if !opened => nesting -= 1,
                ';' if !opened && nesting == 0 => return None,
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth -= 1;
                    if opened && depth == 0 {
                        return Some(end);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

#[test]
fn no_function_is_longer_than_a_screen() {
    let mut long = Vec::new();
    for path in code_files() {
        let code = code(&std::fs::read_to_string(&path).unwrap());
        for (name, lines) in functions(&code) {
            if lines > MAX_FUNCTION_LINES {
                let file = path.strip_prefix(src()).unwrap().display().to_string();
                long.push(format!("{file}: {name} ({lines} lines)"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_FUNCTION_LINES} lines: {long:#?}"
    );
    // The measure itself, on functions it must find.
    let sample = "pub(crate) fn outer(a: u8) -> u8 {\n    let b = '{';\n    a\n}\n\
        pub(in crate::store) fn arr(x: [u8; 2]) -> u8 {\n    x[0]\n}\n\
        fn declared(&self);\n";
    assert_eq!(
        functions(&code(sample)),
        [("outer".to_string(), 4), ("arr".to_string(), 3)]
    );
}

#[test]
fn nothing_in_src_points_outside_the_repository() {
    for path in rust_files(&src()) {
        let text = std::fs::read_to_string(&path).unwrap();
        for outside in ["registry-model.md", "../shared", "shared/data"] {
            assert!(
                !text.contains(outside),
                "{} names {outside}",
                path.display()
            );
        }
    }
    // The documents it does point to are there.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for document in ["docs/data-model.md", "docs/design.md", "docs/guide.md"] {
        assert!(root.join(document).is_file(), "{document} is missing");
    }
}
