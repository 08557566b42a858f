//! The engine sources as an exported project carries them: without their unit tests.
//!
//! The tests read golden files (`engine/tests/golden/…`) that the zip does not carry, so in an
//! exported project they could not compile; leaving them out takes about 40 KB (gzipped) off the
//! playground's wasm, which embeds these sources. Shared with `build.rs` (by `#[path]`), which
//! embeds the stripped text, and with the export test, which checks it.

/// Engine source `text` without its `#[cfg(test)]` modules: inline ones (`mod x { … }`, closed
/// by a `}` in column 0, as rustfmt writes them) and declarations of file modules (`mod x;`),
/// each with the doc comment and attributes above it. Anything else marked `#[cfg(test)]` (a
/// helper function, an import) stays.
pub fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let skip_to = (lines[i].trim_end() == "#[cfg(test)]")
            .then(|| lines.get(i + 1).map(|l| l.trim_end()))
            .flatten()
            .filter(|decl| is_mod(decl))
            .and_then(|decl| {
                if decl.ends_with(';') {
                    Some(i + 2)
                } else if decl.ends_with('{') {
                    (i + 2..lines.len())
                        .find(|&j| lines[j].trim_end() == "}")
                        .map(|end| end + 1)
                } else {
                    None
                }
            });
        let Some(next) = skip_to else {
            out.push(lines[i]);
            i += 1;
            continue;
        };
        while out
            .last()
            .is_some_and(|l| l.starts_with("///") || l.starts_with("#["))
        {
            out.pop();
        }
        // The blank line that separated the module from the code before it, when nothing or
        // another blank line follows.
        let blank = |l: Option<&&str>| l.is_some_and(|l| l.trim().is_empty());
        if blank(out.last()) && (next == lines.len() || blank(lines.get(next))) {
            out.pop();
        }
        i = next;
    }
    out.concat()
}

/// The names of the file modules `text` declares under `#[cfg(test)]` (`mod x;` → `x`): their
/// files (`x.rs`, `x/mod.rs`) are test-only.
pub fn test_file_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].trim_end() == "#[cfg(test)]")
        .map(|w| w[1].trim_end())
        .filter(|decl| is_mod(decl) && decl.ends_with(';'))
        .filter_map(|decl| {
            let name = decl.trim_end_matches(';').rsplit(' ').next()?;
            Some(name.to_string())
        })
        .collect()
}

/// Whether `line` (column 0) declares a module: `mod x`, `pub mod x`, `pub(crate) mod x`.
fn is_mod(line: &str) -> bool {
    let rest = line
        .strip_prefix("pub(crate) ")
        .or_else(|| line.strip_prefix("pub(super) "))
        .or_else(|| line.strip_prefix("pub "))
        .unwrap_or(line);
    rest.starts_with("mod ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_inline_and_file_test_modules() {
        let src = "use a;\n\n#[cfg(test)]\nmod elem_test;\n#[cfg(test)]\nfn helper() {}\n\nfn f() {\n    g();\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        let s = \"}\";\n    }\n}\n";
        assert_eq!(
            without_tests(src),
            "use a;\n\n#[cfg(test)]\nfn helper() {}\n\nfn f() {\n    g();\n}\n"
        );
        assert_eq!(test_file_modules(src), ["elem_test"]);
    }

    #[test]
    fn code_after_a_test_module_stays() {
        let src = "#[cfg(test)]\npub(crate) mod t {\n    x();\n}\nfn after() {}\n";
        assert_eq!(without_tests(src), "fn after() {}\n");
        let doc =
            "fn a() {}\n\n/// Test support.\n#[allow(unused)]\n#[cfg(test)]\nmod t;\n\nfn b() {}\n";
        assert_eq!(without_tests(doc), "fn a() {}\n\nfn b() {}\n");
        assert!(test_file_modules(src).is_empty());
    }
}
