//! Shared by `build.rs` (which embeds engine sources without their in-file unit tests) and
//! `tests/export.rs` (which checks the zip's engine sources against the repository's).

/// `text` cut before a trailing `#[cfg(test)] mod tests { ... }` (the build script's `strip_tests`).
pub fn without_tests(text: &str) -> Option<String> {
    const MARK: &str = "\n#[cfg(test)]\nmod tests {\n";
    let at = text.find(MARK)?;
    let body = text.get(at + MARK.len()..)?.trim_end_matches('\n');
    let mut lines = body.lines().collect::<Vec<_>>();
    if lines.pop() != Some("}") {
        return None;
    }
    if lines
        .iter()
        .any(|l| !(l.is_empty() || l.starts_with(' ') || l.starts_with('\t')))
    {
        return None;
    }
    Some(format!("{}\n", text.get(..at)?.trim_end_matches('\n')))
}
