//! A stacked bar: the parts of one memory (RAM or flash) against the board's capacity.

use yew::prelude::*;

use crate::boards::{fmt_bytes, group};

/// One bar segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What it is.
    pub label: String,
    /// Bytes.
    pub bytes: u32,
    /// How the number was obtained.
    pub source: &'static str,
}

/// Used vs available bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Bytes needed.
    pub used: u32,
    /// Bytes the board has.
    pub available: u32,
}

impl Usage {
    /// Whether it fits.
    pub fn fits(&self) -> bool {
        self.used <= self.available
    }

    /// Free bytes (negative: short by that much).
    pub fn margin(&self) -> i64 {
        i64::from(self.available) - i64::from(self.used)
    }
}

/// Props of [`MemoryBars`].
#[derive(Properties, PartialEq)]
pub struct MemoryBarsProps {
    /// `RAM` or `Flash`.
    pub title: AttrValue,
    /// The parts, in the order drawn.
    pub parts: Vec<Part>,
    /// Used vs available.
    pub fit: Usage,
    /// Shown under the bar (what the capacity means).
    #[prop_or_default]
    pub note: AttrValue,
}

/// Colours of consecutive parts.
const COLOURS: &[&str] = &[
    "#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#64748b",
];

/// The stacked bar with a legend; the scale is the larger of capacity and use.
#[function_component(MemoryBars)]
pub fn memory_bars(props: &MemoryBarsProps) -> Html {
    let used = props.fit.used;
    let available = props.fit.available;
    let scale = f64::from(available.max(used).max(1));
    let pct = |b: u32| f64::from(b) * 100.0 / scale;
    let over = !props.fit.fits();
    let m = props.fit.margin();
    let summary = if m >= 0 {
        format!(
            "{} of {} ({:.0} %), {} free",
            fmt_bytes(i64::from(used)),
            fmt_bytes(i64::from(available)),
            f64::from(used) * 100.0 / f64::from(available.max(1)),
            fmt_bytes(m)
        )
    } else {
        format!(
            "{} of {}: {} too much",
            fmt_bytes(i64::from(used)),
            fmt_bytes(i64::from(available)),
            fmt_bytes(-m)
        )
    };
    html! {
        <div class={classes!("membar", over.then_some("over"))}>
            <div class="membar-head"><strong>{ props.title.clone() }</strong>{ " " }{ summary }</div>
            <div class="membar-track">
                { for props.parts.iter().enumerate().filter(|(_, p)| p.bytes > 0).map(|(i, p)| html! {
                    <div class="membar-part"
                        style={format!("width:{:.3}%;background:{}", pct(p.bytes), COLOURS[i % COLOURS.len()])}
                        title={format!("{}: {} bytes ({})", p.label, group(u64::from(p.bytes)), p.source)} />
                }) }
                <div class="membar-cap" style={format!("left:{:.3}%", pct(available).min(100.0))} title="capacity" />
            </div>
            <ul class="legend">
                { for props.parts.iter().enumerate().map(|(i, p)| html! {
                    <li title={p.source}>
                        <span class="swatch" style={format!("background:{}", COLOURS[i % COLOURS.len()])} />
                        { format!("{} {}{}", p.label, fmt_bytes(i64::from(p.bytes)), if p.source.starts_with("estimate") { " (est.)" } else { "" }) }
                    </li>
                }) }
            </ul>
            if !props.note.is_empty() { <div class="note">{ props.note.clone() }</div> }
        </div>
    }
}
