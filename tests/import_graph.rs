//! The import graph of `src/`: `error.rs` must be in no cycle (issue 17:
//! "`error.rs` depends on nothing above it").
//!
//! A small reader of Rust sources, with no dependency: it walks the module
//! tree from `src/lib.rs` (`mod x;` declarations and inline `mod x { … }`
//! blocks, each module its own node), and draws an edge from a module to
//! every module it names in code: `use` trees, and paths starting with
//! `crate::`, `$crate::`, `super::`, `self::`, a child module or a name the
//! module imported. A path through a re-export (`crate::Message`, a
//! `pub use` in any module) is followed to the module that defines the item.
//!
//! What it leaves out, on purpose: comments and doc comments (intra-doc
//! links are not imports), string and char literals, attributes, and every
//! item under `#[cfg(test)]` (unit-test modules are not part of the
//! library's graph). Every `cfg` feature is taken as on, so the graph is
//! the union over all feature sets. Not seen: paths produced by a macro
//! expanded in another module (the macro's body counts for the module that
//! defines it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// A module's path from the crate root (`[]` is the root, `["message", "raw"]`
/// is `crate::message::raw`).
type ModPath = Vec<String>;

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
    /// A literal or a lifetime: never part of a path.
    Lit,
}

fn lex(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let n = c.len();
    let at = |i: usize| if i < n { c[i] } else { '\0' };
    let is_start = |ch: char| ch == '_' || ch.is_alphabetic();
    let is_cont = |ch: char| ch == '_' || ch.is_alphanumeric();
    let mut toks = Vec::new();
    let mut i = 0;
    // Skips a (raw) string whose opening quote is at `i`, with `hashes` `#`s.
    let skip_string = |mut i: usize, raw: bool, hashes: usize| -> usize {
        i += 1; // opening quote
        while i < n {
            if !raw && c[i] == '\\' {
                i += 2;
                continue;
            }
            if c[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                return i + 1 + hashes;
            }
            i += 1;
        }
        n
    };
    while i < n {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < n && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < n {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i, false, 0);
            toks.push(Tok::Lit);
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped char literal: '\n', '\'', '\u{1F600}'.
                i += 3;
                while i < n && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3; // 'x'
            } else {
                // A lifetime or a label.
                i += 1;
                while i < n && is_cont(c[i]) {
                    i += 1;
                }
            }
            toks.push(Tok::Lit);
        } else if is_start(ch) {
            // String prefixes: r"…", r#"…"#, b"…", br"…", c"…", cr#"…"#, b'x'.
            let mut j = i;
            if matches!(c[j], 'b' | 'c') {
                j += 1;
            }
            let raw = at(j) == 'r';
            if raw {
                j += 1;
            }
            let mut hashes = 0;
            while raw && at(j + hashes) == '#' {
                hashes += 1;
            }
            if j > i && at(j + hashes) == '"' {
                i = skip_string(j + hashes, raw, hashes);
                toks.push(Tok::Lit);
                continue;
            }
            if c[i] == 'b' && at(i + 1) == '\'' {
                i += if at(i + 2) == '\\' { 4 } else { 3 };
                while i < n && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                toks.push(Tok::Lit);
                continue;
            }
            // A raw identifier (r#type) is the identifier.
            if c[i] == 'r' && at(i + 1) == '#' && is_start(at(i + 2)) {
                i += 2;
            }
            let start = i;
            while i < n && is_cont(c[i]) {
                i += 1;
            }
            toks.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            while i < n && is_cont(c[i]) {
                i += 1;
            }
            toks.push(Tok::Lit);
        } else if ch == ':' && at(i + 1) == ':' {
            toks.push(Tok::Sep);
            i += 2;
        } else {
            toks.push(Tok::Punct(ch));
            i += 1;
        }
    }
    toks
}

// --------------------------------------------------------------- parser

/// One name a `use` brings into a module.
#[derive(Debug, Clone)]
struct UseItem {
    /// The name bound (`None` for a glob).
    name: Option<String>,
    /// The path as written (`["crate", "message", "Message"]`).
    path: Vec<String>,
}

#[derive(Debug, Default)]
struct Module {
    /// The file it is read from (for inline modules, the file holding them).
    file: PathBuf,
    /// Where the files of its `mod x;` children are.
    child_dir: PathBuf,
    children: BTreeSet<String>,
    uses: Vec<UseItem>,
    /// Every other path of two or more segments, as written.
    paths: Vec<Vec<String>>,
}

struct Crate {
    modules: BTreeMap<ModPath, Module>,
}

fn is_punct(t: Option<&Tok>, ch: char) -> bool {
    t == Some(&Tok::Punct(ch))
}

fn ident(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

/// Index just past the bracket group opening at `i` (`(`, `[` or `{`).
fn skip_group(toks: &[Tok], mut i: usize) -> usize {
    let mut depth = 0i32;
    while i < toks.len() {
        match toks[i] {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    toks.len()
}

/// Index just past the item starting at `i`: its `;` or its first
/// top-level `{ … }` block.
fn skip_item(toks: &[Tok], mut i: usize) -> usize {
    while i < toks.len() {
        match toks[i] {
            Tok::Punct(';') => return i + 1,
            Tok::Punct('{') => return skip_group(toks, i),
            Tok::Punct('(' | '[') => i = skip_group(toks, i),
            _ => i += 1,
        }
    }
    toks.len()
}

/// Parses a use tree at `i` (after `use`), with `prefix` already read.
fn parse_use_tree(toks: &[Tok], i: &mut usize, prefix: Vec<String>, out: &mut Vec<UseItem>) {
    let mut path = prefix;
    if toks.get(*i) == Some(&Tok::Sep) {
        // `::name`: an extern crate.
        path.push("::".to_string());
        *i += 1;
    }
    loop {
        match toks.get(*i) {
            Some(Tok::Punct('{')) => {
                *i += 1;
                while *i < toks.len() && !is_punct(toks.get(*i), '}') {
                    parse_use_tree(toks, i, path.clone(), out);
                    if is_punct(toks.get(*i), ',') {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push(UseItem { name: None, path });
                return;
            }
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
                if toks.get(*i) == Some(&Tok::Sep) {
                    *i += 1;
                    continue;
                }
                break;
            }
            _ => return,
        }
    }
    let mut name = None;
    if ident(toks.get(*i)) == Some("as") {
        name = ident(toks.get(*i + 1)).map(str::to_string);
        *i += 2;
    }
    if path.last().map(String::as_str) == Some("self") {
        path.pop();
    }
    let name = name.or_else(|| path.last().cloned());
    if name.as_deref() != Some("_") {
        out.push(UseItem { name, path });
    }
}

/// Whether the attribute whose `#` is at `i` is `#[cfg(test)]`.
fn is_cfg_test(toks: &[Tok], i: usize) -> bool {
    let want = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    toks.len() >= i + want.len() && toks[i..i + want.len()] == want
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut krate = Crate {
            modules: BTreeMap::new(),
        };
        krate.read_file(Vec::new(), &src.join("lib.rs"), src.to_path_buf());
        krate
    }

    /// Reads the module `path` from `file`, and its children.
    fn read_file(&mut self, path: ModPath, file: &Path, child_dir: PathBuf) {
        let text = fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let toks = lex(&text);
        // Modules open at this point of the file, with the brace depth
        // their block closes at.
        let mut stack: Vec<(ModPath, i32)> = vec![(path.clone(), -1)];
        self.modules.insert(
            path,
            Module {
                file: file.to_path_buf(),
                child_dir,
                ..Module::default()
            },
        );
        let mut files: Vec<(ModPath, PathBuf, PathBuf)> = Vec::new();
        let mut depth = 0i32;
        let mut i = 0;
        while i < toks.len() {
            let cur = stack.last().unwrap().0.clone();
            match &toks[i] {
                Tok::Punct('#') if is_cfg_test(&toks, i) => {
                    // Skip the attribute, any further ones, and the item.
                    i += 7;
                    while is_punct(toks.get(i), '#') {
                        i = skip_group(&toks, i + 1);
                    }
                    i = skip_item(&toks, i);
                }
                Tok::Punct('#') => {
                    i += 1;
                    if is_punct(toks.get(i), '!') {
                        i += 1;
                    }
                    if is_punct(toks.get(i), '[') {
                        i = skip_group(&toks, i);
                    }
                }
                Tok::Punct('{') => {
                    depth += 1;
                    i += 1;
                }
                Tok::Punct('}') => {
                    depth -= 1;
                    if stack.last().unwrap().1 == depth {
                        stack.pop();
                    }
                    i += 1;
                }
                Tok::Ident(kw) if kw == "mod" && ident(toks.get(i + 1)).is_some() => {
                    let name = ident(toks.get(i + 1)).unwrap().to_string();
                    let mut child = cur.clone();
                    child.push(name.clone());
                    let dir = self.modules[&cur].child_dir.clone();
                    self.modules
                        .get_mut(&cur)
                        .unwrap()
                        .children
                        .insert(name.clone());
                    if is_punct(toks.get(i + 2), ';') {
                        let (flat, nested) = (
                            dir.join(format!("{name}.rs")),
                            dir.join(&name).join("mod.rs"),
                        );
                        let f = if flat.exists() { flat } else { nested };
                        files.push((child, f, dir.join(&name)));
                        i += 3;
                    } else {
                        self.modules.insert(
                            child.clone(),
                            Module {
                                file: file.to_path_buf(),
                                child_dir: dir.join(&name),
                                ..Module::default()
                            },
                        );
                        stack.push((child, depth));
                        depth += 1;
                        i += 3; // mod name {
                    }
                }
                Tok::Ident(kw) if kw == "use" && !is_punct(toks.get(i + 1), '<') => {
                    i += 1;
                    let mut out = Vec::new();
                    parse_use_tree(&toks, &mut i, Vec::new(), &mut out);
                    self.modules.get_mut(&cur).unwrap().uses.extend(out);
                }
                Tok::Ident(first) => {
                    let after_sep = i > 0 && toks[i - 1] == Tok::Sep;
                    let after_dot = i > 0 && is_punct(toks.get(i - 1), '.');
                    // `pub(in crate::x)` is a visibility, not a use.
                    let visibility = i >= 2
                        && ident(toks.get(i - 1)) == Some("in")
                        && is_punct(toks.get(i - 2), '(');
                    if !after_sep && !after_dot && !visibility && toks.get(i + 1) == Some(&Tok::Sep)
                    {
                        let mut p = vec![first.clone()];
                        let mut j = i + 1;
                        while toks.get(j) == Some(&Tok::Sep) {
                            match ident(toks.get(j + 1)) {
                                Some(s) => p.push(s.to_string()),
                                None => break,
                            }
                            j += 2;
                        }
                        self.modules.get_mut(&cur).unwrap().paths.push(p);
                        i = j;
                    } else {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        for (child, f, dir) in files {
            self.read_file(child, &f, dir);
        }
    }

    /// A path as written in module `m`, made absolute; `None` for an
    /// extern crate (std, libc, zmq_sys…) or a local name.
    fn absolute(&self, m: &ModPath, path: &[String], depth: u32) -> Option<Vec<String>> {
        let first = path.first()?;
        if depth > 32 {
            return None;
        }
        match first.as_str() {
            "crate" | "$crate" => Some(path[1..].to_vec()),
            "self" | "super" => {
                let mut base = m.clone();
                let mut rest = path;
                while let Some((seg, tail)) = rest.split_first() {
                    match seg.as_str() {
                        "self" => {}
                        "super" => {
                            base.pop()?;
                        }
                        _ => break,
                    }
                    rest = tail;
                }
                base.extend_from_slice(rest);
                Some(base)
            }
            "::" => None,
            name => {
                let module = self.modules.get(m)?;
                if module.children.contains(name) {
                    return Some(m.iter().chain(path).cloned().collect());
                }
                let item = module
                    .uses
                    .iter()
                    .find(|u| u.name.as_deref() == Some(name))?;
                let mut full = self.absolute(m, &item.path, depth + 1)?;
                full.extend_from_slice(&path[1..]);
                Some(full)
            }
        }
    }

    /// The module defining what an absolute path names; `None` when it
    /// leads out of the crate (a re-exported extern crate).
    fn defining_module(&self, path: &[String], depth: u32) -> Option<ModPath> {
        let mut cur: ModPath = Vec::new();
        for (k, seg) in path.iter().enumerate() {
            let mut child = cur.clone();
            child.push(seg.clone());
            if self.modules.contains_key(&child) {
                cur = child;
                continue;
            }
            // A name the module imports (a re-export, or a private `use`
            // that a child reaches through `super::`).
            let module = &self.modules[&cur];
            if let Some(item) = module.uses.iter().find(|u| u.name.as_deref() == Some(seg)) {
                if depth > 32 {
                    return Some(cur);
                }
                let mut target = self.absolute(&cur, &item.path, 0)?;
                target.extend_from_slice(&path[k + 1..]);
                return self.defining_module(&target, depth + 1);
            }
            break;
        }
        Some(cur)
    }

    /// Module-level edges: who names whom.
    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (m, module) in &self.modules {
            let targets = edges.entry(m.clone()).or_default();
            let written = module
                .uses
                .iter()
                .map(|u| &u.path)
                .chain(module.paths.iter());
            for path in written {
                let to = self
                    .absolute(m, path, 0)
                    .and_then(|abs| self.defining_module(&abs, 0));
                if let Some(to) = to.filter(|to| to != m) {
                    targets.insert(to);
                }
            }
        }
        edges
    }
}

// ---------------------------------------------------------------- graph

/// Every shortest cycle through `node`: one per direct successor that leads
/// back to it, as `node → … → node`.
fn cycles_through(
    edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
    node: &ModPath,
) -> Vec<Vec<ModPath>> {
    let mut cycles = Vec::new();
    for first in edges.get(node).into_iter().flatten() {
        let mut came_from: BTreeMap<ModPath, ModPath> = BTreeMap::new();
        let mut queue = VecDeque::from([first.clone()]);
        came_from.insert(first.clone(), node.clone());
        while let Some(m) = queue.pop_front() {
            if &m == node {
                let mut back = Vec::new();
                let mut at = came_from[node].clone();
                while &at != node {
                    back.push(at.clone());
                    at = came_from[&at].clone();
                }
                back.reverse();
                let mut cycle = vec![node.clone()];
                cycle.extend(back);
                cycle.push(node.clone());
                cycles.push(cycle);
                break;
            }
            for next in edges.get(&m).into_iter().flatten() {
                if !came_from.contains_key(next) {
                    came_from.insert(next.clone(), m.clone());
                    queue.push_back(next.clone());
                }
            }
        }
    }
    cycles
}

/// The strongly connected components of more than one module (every
/// import cycle), each sorted.
fn components(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    let reach = |from: &ModPath| -> BTreeSet<ModPath> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&ModPath, BTreeSet<ModPath>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for m in edges.keys() {
        if done.contains(m) || !reaches[m].contains(m) {
            continue;
        }
        let scc: Vec<ModPath> = reaches[m]
            .iter()
            .filter(|o| reaches.get(o).is_some_and(|r| r.contains(m)))
            .cloned()
            .collect();
        done.extend(scc.iter().cloned());
        out.push(scc);
    }
    out
}

fn render(cycle: &[ModPath]) -> String {
    cycle.iter().map(show).collect::<Vec<_>>().join(" -> ")
}

fn every_rs_file(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            every_rs_file(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.insert(path);
        }
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn error_rs_is_in_no_import_cycle() {
    // IMPORT_GRAPH_SRC=<dir> checks another checkout's src/ (for example
    // main's, to see the cycles this test guards against).
    let src = std::env::var_os("IMPORT_GRAPH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let krate = Crate::read(&src);

    // The walk from lib.rs must reach every file: a file it misses would
    // be a blind spot.
    let mut files = BTreeSet::new();
    every_rs_file(&src, &mut files);
    let read: BTreeSet<PathBuf> = krate.modules.values().map(|m| m.file.clone()).collect();
    let missed: Vec<_> = files.difference(&read).collect();
    assert!(
        missed.is_empty(),
        "files not reached from lib.rs: {missed:?}"
    );

    let edges = krate.edges();
    // IMPORT_GRAPH_DUMP=1 cargo test --test import_graph -- --nocapture
    // prints the whole graph.
    if std::env::var_os("IMPORT_GRAPH_DUMP").is_some() {
        for (from, to) in &edges {
            let to: Vec<String> = to.iter().map(show).collect();
            println!("{} -> {}", show(from), to.join(", "));
        }
    }
    let error = vec!["error".to_string()];
    assert!(edges.contains_key(&error), "no module `error` found");
    println!(
        "error.rs names: {}",
        edges[&error]
            .iter()
            .map(show)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for scc in components(&edges) {
        println!(
            "import cycle among {} modules: {}",
            scc.len(),
            scc.iter().map(show).collect::<Vec<_>>().join(", ")
        );
    }
    let cycles = cycles_through(&edges, &error);
    assert!(
        cycles.is_empty(),
        "error.rs is in {} import cycle(s):\n{}",
        cycles.len(),
        cycles
            .iter()
            .map(|c| format!("  {}", render(c)))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A scratch crate in the temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &str)]) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("zmqx-import-graph-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn mp(s: &str) -> ModPath {
    if s == "crate" {
        Vec::new()
    } else {
        s.split("::").map(str::to_string).collect()
    }
}

fn edge_set(krate: &Crate, from: &str) -> Vec<String> {
    krate.edges()[&mp(from)].iter().map(show).collect()
}

#[test]
fn checker_follows_reexports_and_finds_the_cycle() {
    let s = Scratch::new(
        "reexport",
        &[
            (
                "lib.rs",
                "mod error; mod message; pub use message::{Message, Frames};\n",
            ),
            (
                "error.rs",
                "pub enum Error { Bad { frames: crate::Frames } }\n",
            ),
            (
                "message/mod.rs",
                "mod frames; mod raw;\npub use frames::Frames;\npub use raw::Message;\n\
                 use crate::error::Error;\nimpl Message { pub fn get(&self) -> Result<(), Error> { Ok(()) } }\n",
            ),
            ("message/raw.rs", "pub struct Message;\n"),
            (
                "message/frames.rs",
                "use super::raw::Message;\npub struct Frames(Vec<Message>);\n",
            ),
        ],
    );
    let krate = Crate::read(&s.0);
    // crate::Frames is followed through two re-exports to its file.
    assert_eq!(edge_set(&krate, "error"), ["message::frames"]);
    assert_eq!(edge_set(&krate, "message::frames"), ["message::raw"]);
    assert!(cycles_through(&krate.edges(), &mp("error")).is_empty());

    // The same crate with Frames defined beside the Result API: a cycle.
    fs::write(
        s.0.join("message/frames.rs"),
        "pub struct Frames(Vec<super::Message>);\nfn f() -> crate::error::Error { todo!() }\n",
    )
    .unwrap();
    let krate = Crate::read(&s.0);
    let cycles = cycles_through(&krate.edges(), &mp("error"));
    assert_eq!(
        cycles.iter().map(|c| render(c)).collect::<Vec<_>>(),
        ["error -> message::frames -> error"]
    );
}

#[test]
fn checker_sees_super_child_and_imported_paths() {
    let s = Scratch::new(
        "paths",
        &[
            ("lib.rs", "pub mod a; mod b; mod c;\npub fn root() {}\n"),
            // super:: from an inline module, a child module's path, a
            // renamed import used as a path root.
            (
                "a/mod.rs",
                "mod inner { pub fn f() { super::super::b::g(); } }\n\
                 mod kid;\nuse crate::c as see;\npub fn h() { kid::k(); see::Thing::new(); }\n",
            ),
            ("a/kid.rs", "pub fn k() { crate::root(); }\n"),
            ("b.rs", "pub fn g() {}\n"),
            ("c.rs", "pub struct Thing;\n"),
        ],
    );
    let krate = Crate::read(&s.0);
    assert_eq!(edge_set(&krate, "a::inner"), ["b"]);
    assert_eq!(edge_set(&krate, "a"), ["a::kid", "c"]);
    assert_eq!(edge_set(&krate, "a::kid"), ["crate"]);
}

#[test]
fn checker_ignores_comments_strings_attributes_and_tests() {
    let s = Scratch::new(
        "ignored",
        &[
            ("lib.rs", "mod a; mod b;\n"),
            (
                "a.rs",
                r###"//! See [`crate::b::B`].
/// Links to [crate::b::B] are not imports. /* crate::b::B */
// use crate::b::B;
/* nested /* crate::b::B */ crate::b::B */
#[doc = "crate::b::B"]
#[cfg_attr(docsrs, doc(cfg(feature = "x")))]
pub fn f() -> &'static str {
    let _c = '"';
    let _l: &'static str = r#"crate::b::B "quoted" "#;
    let _b = b"crate::b::B";
    "use crate::b::B;"
}
pub(in crate::a) fn g() {}
#[cfg(test)]
mod tests {
    use crate::b::B;
    fn t() { crate::b::B::new(); }
}
#[cfg(test)]
fn helper() { crate::b::f(); }
"###,
            ),
            ("b.rs", "pub struct B;\n"),
        ],
    );
    let krate = Crate::read(&s.0);
    assert!(
        edge_set(&krate, "a").is_empty(),
        "{:?}",
        edge_set(&krate, "a")
    );
}
