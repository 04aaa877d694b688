//! The layout docs/design.md promises, read from the sources: modules depend one way, the
//! library never imports the renderers or the commands, no file of a folder imports one that
//! imports it back, no function outside the tests is longer than 80 lines, and nothing in
//! src/ points outside the repository.

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
/// its line breaks), and without its `#[cfg(test)]` module, if that is its last item.
fn code(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
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

/// Which top-level modules each one imports.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let tops: BTreeSet<String> = rust_files(&src()).iter().map(|p| place(p).0).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in rust_files(&src()).iter().filter(|p| !is_tests_file(p)) {
        let (top, _) = place(path);
        let code = code(&std::fs::read_to_string(path).unwrap());
        let mut used = segments_after(&code, "crate::");
        used.extend(segments_after(&code, "portreg::"));
        let entry = graph.entry(top.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != top && tops.contains(m)));
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
    // cli may use output's format enums, and output renders what the library returns.
    assert!(!reaches(&graph, "output", "cmd") && !reaches(&graph, "output", "cli"));
}

#[test]
fn no_file_of_a_folder_imports_one_that_imports_it_back() {
    // Per folder: which sibling files each file names through `super::`.
    let mut folders: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in rust_files(&src()) {
        let (_, folder) = place(&path);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if stem == "mod" || stem == "lib" || stem == "main" || stem == "tests" {
            continue;
        }
        let code = code(&std::fs::read_to_string(&path).unwrap());
        let mut used = segments_after(&code, "super::");
        let folder_path: Vec<String> = folder
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        if !folder_path.is_empty() {
            used.extend(segments_after(
                &code,
                &format!("crate::{}::", folder_path.join("::")),
            ));
        }
        folders.entry(folder).or_default().insert(stem, used);
    }
    let mut cycles = Vec::new();
    for (folder, files) in &folders {
        let graph: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .map(|(file, used)| {
                let siblings = used
                    .iter()
                    .filter(|u| *u != file && files.contains_key(*u))
                    .cloned()
                    .collect();
                (file.clone(), siblings)
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

/// Each function's name and length in lines, signature to closing brace.
fn functions(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(at) = trimmed.find("fn ") else {
            continue;
        };
        let qualifiers = &trimmed[..at];
        let is_item = qualifiers
            .split_whitespace()
            .all(|q| q.starts_with("pub") || ["const", "async", "unsafe"].contains(&q));
        if !is_item {
            continue;
        }
        let name: String = trimmed[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The body: from the first `{` after the signature to its match (a `;` first means a
        // declaration without one).
        let mut depth = 0;
        let mut opened = false;
        'lines: for (end, text) in lines.iter().enumerate().skip(start) {
            for c in text.chars() {
                match c {
                    ';' if !opened => break 'lines,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth -= 1;
                        if opened && depth == 0 {
                            found.push((name.clone(), end - start + 1));
                            break 'lines;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    found
}

#[test]
fn no_function_is_longer_than_a_screen() {
    let mut long = Vec::new();
    for path in rust_files(&src()).iter().filter(|p| !is_tests_file(p)) {
        let code = code(&std::fs::read_to_string(path).unwrap());
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
    // The measure itself, on a function it must find.
    let sample = "pub(crate) fn outer(a: u8) -> u8 {\n    let b = '{';\n    a\n}\n";
    assert_eq!(functions(&code(sample)), [("outer".to_string(), 4)]);
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
