//! The library speaks in request keys, not in any front end's words: no string in `src/` outside
//! the command line's own files (`src/cli/`, `src/main.rs`) holds a command-line flag. Messages
//! name settings as `` `scr.lambda` ``, which each front end respells (`--lambda`, `scr_lambda`).

use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The contents of the string literals of Rust source `text` (comments skipped; raw strings,
/// escapes and char literals understood), each with its line.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let b: Vec<char> = text.chars().collect();
    let (mut i, mut line) = (0, 1);
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                line += usize::from(b[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident(b.get(i.wrapping_sub(1)))
        {
            // r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            let start_line = line;
            let mut s = String::new();
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                line += usize::from(b[j] == '\n');
                s.push(b[j]);
                j += 1;
            }
            out.push((start_line, s));
            i = j;
        } else if c == '"' {
            let start_line = line;
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                if b[j] == '\\' {
                    // a line continuation `\` + newline + indentation reads as nothing
                    if b.get(j + 1) == Some(&'\n') {
                        line += 1;
                        j += 2;
                        while j < b.len() && b[j].is_whitespace() {
                            line += usize::from(b[j] == '\n');
                            j += 1;
                        }
                        continue;
                    }
                    s.push(b[j]);
                    s.push(*b.get(j + 1).unwrap_or(&' '));
                    j += 2;
                    continue;
                }
                line += usize::from(b[j] == '\n');
                s.push(b[j]);
                j += 1;
            }
            out.push((start_line, s));
            i = j + 1;
        } else if c == '\'' {
            // a char literal ('"', '\'') or a lifetime ('a)
            match (next, b.get(i + 2), b.get(i + 3)) {
                (Some('\\'), _, _) => {
                    let mut j = i + 2;
                    while j < b.len() && b[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                }
                (Some(_), Some('\''), _) => i += 3,
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// A command-line flag: `--` then a lowercase letter, not inside a longer word.
fn flag_in(s: &str) -> Option<String> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(2)).find_map(|i| {
        let starts = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-');
        (starts && b[i] == b'-' && b[i + 1] == b'-' && b[i + 2].is_ascii_lowercase()).then(|| {
            s[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
    })
}

#[test]
fn the_scanner_finds_flags_in_strings_only() {
    let text = "// a comment with --lambda\nlet a = \"use --lambda 1\";\nlet b = r#\"x --mu\"#;\n\
                let c = \"first \\\n    --weight-decay\";\nlet d = '\"'; let e = \"a—b --- c\";";
    let found: Vec<(usize, Option<String>)> = string_literals(text)
        .into_iter()
        .map(|(l, s)| (l, flag_in(&s)))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, Some("--lambda".into())),
            (3, Some("--mu".into())),
            (4, Some("--weight-decay".into())),
            (6, None),
        ]
    );
}

#[test]
fn no_library_string_names_a_command_line_flag() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap();
        if rel.starts_with("cli") || rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (line, s) in string_literals(&text) {
            if let Some(flag) = flag_in(&s) {
                found.push(format!("src/{}:{line}: {flag} in \"{s}\"", rel.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "library strings that name a flag (name the request key in backticks instead):\n{}",
        found.join("\n")
    );
}
