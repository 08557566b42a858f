//! A stacked bar: the parts of one memory (RAM or flash) against the board's capacity.

use yew::prelude::*;

use crate::boards::{fmt_bytes, group, Fit};
use crate::budget::Part;

/// Props of [`MemoryBars`].
#[derive(Properties, PartialEq)]
pub struct MemoryBarsProps {
    /// `RAM` or `Flash`.
    pub title: AttrValue,
    /// The parts, in the order drawn.
    pub parts: Vec<Part>,
    /// Used vs available.
    pub fit: Fit,
    /// Shown under the bar (what the capacity means).
    #[prop_or_default]
    pub note: AttrValue,
}

/// Colours of consecutive parts.
const COLOURS: &[&str] = &["#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#64748b"];

/// The stacked bar with a legend; the scale is the larger of capacity and use.
#[function_component(MemoryBars)]
pub fn memory_bars(props: &MemoryBarsProps) -> Html {
    let used = props.fit.used;
    let scale = f64::from(props.fit.available.unwrap_or(used).max(used).max(1));
    let pct = |b: u32| f64::from(b) * 100.0 / scale;
    let over = !props.fit.fits();
    let summary = match (props.fit.available, props.fit.margin()) {
        (Some(a), Some(m)) if m >= 0 => format!(
            "{} of {} ({:.0} %), {} free",
            fmt_bytes(i64::from(used)),
            fmt_bytes(i64::from(a)),
            props.fit.percent().unwrap_or(0.0),
            fmt_bytes(m)
        ),
        (Some(a), Some(m)) => format!("{} of {}: {} too much", fmt_bytes(i64::from(used)), fmt_bytes(i64::from(a)), fmt_bytes(-m)),
        _ => format!("{} (capacity depends on the module)", fmt_bytes(i64::from(used))),
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
                if let Some(a) = props.fit.available {
                    <div class="membar-cap" style={format!("left:{:.3}%", pct(a).min(100.0))} title="capacity" />
                }
            </div>
            <ul class="legend">
                { for props.parts.iter().enumerate().map(|(i, p)| html! {
                    <li title={p.source}>
                        <span class="swatch" style={format!("background:{}", COLOURS[i % COLOURS.len()])} />
                        { format!("{} {}", p.label, fmt_bytes(i64::from(p.bytes))) }
                    </li>
                }) }
            </ul>
            if !props.note.is_empty() { <div class="note">{ props.note.clone() }</div> }
        </div>
    }
}
