//! The board's log as the "Connect to board" panel reads it: the firmware's JSON Lines on the
//! ST-LINK virtual COM port (115200 8N1), split into lines and parsed into what the panel
//! shows. Formats: `firmware-template/src/runtime.rs` (start, replay_done, error), `live.rs`
//! (mic_level, cycles) and the engine's `write_json_line` (scores, detections, exactly as
//! `mote detect --json`). Tested against lines recorded from the runtime in QEMU
//! (`web/tests/fixtures/board-log.jsonl`, made by `MOTE_RECORD_BOARD_LOG=... scripts/runtime-test.sh`).

/// One parsed log line.
#[derive(Clone, Debug, PartialEq)]
pub enum BoardLine {
    /// The runtime (or mic firmware) started: board, model, arena and state bytes.
    Start {
        /// Board id.
        board: String,
        /// Model bytes.
        model_bytes: u64,
        /// Tensor arena bytes.
        arena: u64,
        /// Variable-state bytes.
        state: u64,
    },
    /// One invocation's raw scores.
    Scores {
        /// Audio time, ms.
        t_ms: u64,
    },
    /// A keyword or wake word fired.
    Detection {
        /// Label.
        label: String,
        /// Audio time, ms.
        t_ms: u64,
        /// Smoothed score, 0..1.
        score: f64,
    },
    /// Cycles per inference (DWT), every 100 invocations.
    Cycles {
        /// Cycles per invocation (front end + model + detector).
        per_invocation: u64,
        /// Invocations so far.
        invocations: u64,
    },
    /// The microphone's level after its first second.
    MicLevel {
        /// `ok`, `silent`, `clipping` or `no_data`.
        status: String,
    },
    /// The firmware cannot run: its message (and LED blink code, runtime only).
    Error {
        /// Blink code (0: none given).
        code: u64,
        /// What went wrong.
        message: String,
    },
    /// Any other JSON object (replay summaries, future events).
    Other(String),
    /// Not JSON: line noise (a reset mid-line, wrong baud rate).
    Garbled(String),
}

/// The value of the top-level field `key` in a one-line JSON object of the firmware's: a
/// string's contents (JSON escapes decoded) or a number's text. Written by hand, not with
/// `serde_json::Value` (about 20 KB of wasm, against the page's 500 KB budget): the firmware
/// writes flat objects whose only nested value is the `scores` array, and escapes `"` in
/// strings, so a key is a `"key":` preceded by `{` or `,`.
fn field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let mut from = 0;
    let at = loop {
        let i = from + line.get(from..)?.find(&pat)?;
        if matches!(line.as_bytes().get(i.wrapping_sub(1)), Some(b'{' | b',')) {
            break i + pat.len();
        }
        from = i + 1;
    };
    let rest = line.get(at..)?;
    if let Some(body) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
        None
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest.get(..end)?.trim().to_string())
    }
}

fn u(line: &str, k: &str) -> u64 {
    field(line, k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// A non-negative decimal like `0.996` in thousandths (more digits are cut), without the
/// float parser (core's `f64::from_str` adds about 14 KB of gzipped wasm).
fn milli(x: &str) -> u64 {
    let (int, frac) = x.split_once('.').unwrap_or((x, ""));
    let mut m = int.parse::<u64>().unwrap_or(0).saturating_mul(1000);
    for (d, scale) in frac.bytes().take(3).zip([100, 10, 1]) {
        m += u64::from(d.wrapping_sub(b'0').min(9)) * scale;
    }
    m
}

fn s(line: &str, k: &str) -> String {
    field(line, k).unwrap_or_default()
}

/// Parses one line (without its newline).
pub fn parse_line(line: &str) -> BoardLine {
    let line = line.trim();
    if !(line.starts_with('{') && line.ends_with('}')) || line.contains('\u{fffd}') {
        return BoardLine::Garbled(line.to_string());
    }
    let v = line;
    match field(v, "event").as_deref() {
        Some("start") => BoardLine::Start {
            board: s(v, "board"),
            model_bytes: u(v, "model_bytes"),
            arena: u(v, "arena"),
            state: u(v, "state"),
        },
        Some("detection") => BoardLine::Detection {
            label: s(v, "label"),
            t_ms: u(v, "t_ms"),
            score: field(v, "score").map_or(0.0, |x| milli(&x) as f64 / 1000.0),
        },
        Some("cycles") => BoardLine::Cycles {
            per_invocation: u(v, "per_invocation"),
            invocations: u(v, "invocations"),
        },
        Some("mic_level") => BoardLine::MicLevel {
            status: s(v, "status"),
        },
        Some("error") => BoardLine::Error {
            code: u(v, "code"),
            message: s(v, "message"),
        },
        None if field(v, "scores").is_some() => BoardLine::Scores { t_ms: u(v, "t_ms") },
        _ => BoardLine::Other(line.to_string()),
    }
}

/// Splits a byte stream's text into lines; keeps a partial line for the next chunk (at most
/// [`LineSplitter::MAX`] bytes: a stream without newlines cannot grow it without bound).
#[derive(Default)]
pub struct LineSplitter {
    partial: String,
}

impl LineSplitter {
    /// Longest line kept.
    pub const MAX: usize = 4096;

    /// Adds a chunk; returns the lines it completed.
    pub fn push(&mut self, chunk: &str) -> Vec<String> {
        self.partial.push_str(chunk);
        let mut lines = Vec::new();
        while let Some(i) = self.partial.find('\n') {
            let rest = self.partial.split_off(i + 1);
            let line = std::mem::replace(&mut self.partial, rest);
            let line = line.trim_end_matches(['\n', '\r']);
            if !line.is_empty() {
                lines.push(line.to_string());
            }
        }
        if self.partial.len() > Self::MAX {
            self.partial.clear();
        }
        lines
    }
}

/// What the panel shows, updated line by line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardState {
    /// The last start line.
    pub start: Option<BoardLine>,
    /// Detections, oldest first (the last [`BoardState::KEEP`]).
    pub detections: Vec<(String, u64, f64)>,
    /// Last cycles per inference.
    pub cycles: Option<u64>,
    /// Last microphone level status.
    pub mic: Option<String>,
    /// Last error line.
    pub error: Option<(u64, String)>,
    /// Invocations seen (scores lines).
    pub invocations: u64,
    /// Lines that were not JSON.
    pub garbled: u64,
}

impl BoardState {
    /// Detections kept.
    pub const KEEP: usize = 20;

    /// Applies one line.
    pub fn apply(&mut self, line: BoardLine) {
        match line {
            l @ BoardLine::Start { .. } => {
                *self = BoardState::default();
                self.start = Some(l);
            }
            BoardLine::Scores { .. } => self.invocations += 1,
            BoardLine::Detection { label, t_ms, score } => {
                self.detections.push((label, t_ms, score));
                if self.detections.len() > Self::KEEP {
                    self.detections.remove(0);
                }
            }
            BoardLine::Cycles { per_invocation, .. } => self.cycles = Some(per_invocation),
            BoardLine::MicLevel { status } => self.mic = Some(status),
            BoardLine::Error { code, message } => self.error = Some((code, message)),
            BoardLine::Other(_) => {}
            BoardLine::Garbled(_) => self.garbled += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded from the runtime in QEMU (scripts/runtime-test.sh): okay_nabu without audio
    /// (start line only), micro_speech and okay_nabu replays, a damaged slot, a too-big model.
    const RECORDED: &str = include_str!("../tests/fixtures/board-log.jsonl");

    #[test]
    fn recorded_qemu_log_parses() {
        let mut split = LineSplitter::default();
        // Fed in uneven chunks, as a serial port delivers them.
        let mut lines = Vec::new();
        let bytes = RECORDED.as_bytes();
        let mut at = 0;
        let mut n = 1;
        while at < bytes.len() {
            let end = (at + n).min(bytes.len());
            lines.extend(split.push(&RECORDED[at..end]));
            at = end;
            n = n % 97 + 13;
        }
        assert_eq!(lines.len(), RECORDED.lines().count());
        let parsed: Vec<BoardLine> = lines.iter().map(|l| parse_line(l)).collect();
        assert!(!parsed.iter().any(|l| matches!(l, BoardLine::Garbled(_))));
        let starts: Vec<&BoardLine> = parsed
            .iter()
            .filter(|l| matches!(l, BoardLine::Start { .. }))
            .collect();
        assert_eq!(starts.len(), 3, "three runs with a valid slot");
        match starts[1] {
            BoardLine::Start {
                board,
                model_bytes,
                arena,
                state,
            } => {
                assert_eq!(board, "b-l475e-iot01a");
                assert_eq!((*model_bytes, *arena, *state), (18800, 6380, 0));
            }
            _ => unreachable!(),
        }
        let detections: Vec<(&str, u64)> = parsed
            .iter()
            .filter_map(|l| match l {
                BoardLine::Detection { label, t_ms, .. } => Some((label.as_str(), *t_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(detections.len(), 2);
        assert_eq!(detections[0], ("yes", 990));
        assert_eq!(detections[1].0, "Okay Nabu");
        let errors: Vec<u64> = parsed
            .iter()
            .filter_map(|l| match l {
                BoardLine::Error { code, .. } => Some(*code),
                _ => None,
            })
            .collect();
        assert_eq!(errors, [2, 5]);

        let mut st = BoardState::default();
        for l in parsed {
            st.apply(l);
        }
        // The last run (too-big model) has no start line: the state still holds the replay's.
        assert_eq!(st.detections.len(), 1);
        assert_eq!(st.error.as_ref().map(|e| e.0), Some(5));
        assert!(st.invocations > 60);
    }

    #[test]
    fn live_lines_and_noise() {
        // The mic firmware's `cycles` line (live.rs; QEMU has no microphone to record it from).
        assert_eq!(
            parse_line(
                r#"{"event":"cycles","per_invocation":812345,"invocations":200,"overruns":0}"#
            ),
            BoardLine::Cycles {
                per_invocation: 812_345,
                invocations: 200
            }
        );
        assert_eq!(
            parse_line(r#"{"event":"mic_level","samples":0,"status":"no_data"}"#),
            BoardLine::MicLevel {
                status: "no_data".into()
            }
        );
        assert!(matches!(
            parse_line("\u{fffd}\u{fffd}t_ms\":9"),
            BoardLine::Garbled(_)
        ));
        let mut sp = LineSplitter::default();
        assert!(sp.push(&"x".repeat(LineSplitter::MAX + 1)).is_empty());
        assert_eq!(sp.push("{}\r\n"), vec!["{}".to_string()]);
    }
}
