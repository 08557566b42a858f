//! The arena timeline: x = operator in execution order, y = arena offset; each planned tensor is
//! a bar over its lifetime (first to last step), the peak operator's column is highlighted, and
//! hovering a bar names the tensor.

use std::rc::Rc;

use mote_exporter::report::{ModelReport, TensorReport};
use yew::prelude::*;

use crate::boards::group;
use crate::loaded::Loaded;

/// Props of [`ArenaTimeline`].
#[derive(Properties, PartialEq)]
pub struct ArenaTimelineProps {
    /// The loaded model (its report must exist).
    pub model: Rc<Loaded>,
}

const W: f64 = 880.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 22.0;

/// Arena tensors with a placement, in report order.
fn planned(r: &ModelReport) -> Vec<&TensorReport> {
    r.tensors
        .iter()
        .filter(|t| {
            t.kind == "arena" && t.offset.is_some() && t.first_step.is_some() && t.bytes > 0
        })
        .collect()
}

/// Hue per tensor, stable across renders.
fn colour(i: usize) -> String {
    format!("hsl({}, 65%, 55%)", (i * 47) % 360)
}

/// The timeline SVG plus a hover card.
#[function_component(ArenaTimeline)]
pub fn arena_timeline(props: &ArenaTimelineProps) -> Html {
    let hover = use_state(|| None::<usize>);
    let Ok(r) = &props.model.report else {
        return html! {};
    };
    let tensors = planned(r);
    let steps = (r.ops.len().max(1)) as f64;
    let top = tensors
        .iter()
        .map(|t| u64::from(t.offset.unwrap_or(0)) + u64::from(t.bytes))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - BOTTOM - 8.0;
    let x = |step: f64| LEFT + step / steps * plot_w;
    let y = |off: f64| 8.0 + plot_h - off / top * plot_h;
    let peak = f64::from(r.peak_step);
    let hovered = (*hover).and_then(|i| tensors.get(i).copied());

    let bars = tensors.iter().enumerate().map(|(i, t)| {
        let first = f64::from(t.first_step.unwrap_or(0));
        let last = f64::from(t.last_step.unwrap_or(t.first_step.unwrap_or(0)));
        let off = f64::from(t.offset.unwrap_or(0));
        let (x0, x1) = (x(first), x(last + 1.0));
        let (y0, y1) = (y(off + f64::from(t.bytes)), y(off));
        let onmouseenter = {
            let hover = hover.clone();
            Callback::from(move |_| hover.set(Some(i)))
        };
        let onmouseleave = {
            let hover = hover.clone();
            Callback::from(move |_| hover.set(None))
        };
        html! {
            <rect x={format!("{x0:.1}")} y={format!("{y0:.1}")}
                width={format!("{:.1}", (x1 - x0 - 1.0).max(1.0))} height={format!("{:.1}", (y1 - y0).max(1.0))}
                fill={colour(i)} class={classes!("tensor", (*hover == Some(i)).then_some("hot"))}
                {onmouseenter} {onmouseleave}>
                <title>{ format!("{} {:?} {} — {} bytes", t.name, t.shape, t.dtype, t.bytes) }</title>
            </rect>
        }
    });
    let ticks = (0..=4).map(|k| {
        let off = top * f64::from(k) / 4.0;
        html! {
            <g>
                <line x1={format!("{}", LEFT - 4.0)} x2={format!("{LEFT}")} y1={format!("{:.1}", y(off))} y2={format!("{:.1}", y(off))} class="axis" />
                <text x={format!("{}", LEFT - 6.0)} y={format!("{:.1}", y(off) + 4.0)} class="tick" text-anchor="end">{ group(off as u64) }</text>
            </g>
        }
    });
    let op_labels = r.ops.iter().enumerate().filter(|(i, _)| r.ops.len() <= 40 || i % 5 == 0).map(|(i, o)| {
        html! {
            <text x={format!("{:.1}", x(i as f64 + 0.5))} y={format!("{}", H - 6.0)} class="tick" text-anchor="middle">
                <title>{ format!("step {i}: {} v{}", o.op, o.version) }</title>
                { i }
            </text>
        }
    });
    let peak_bytes: u64 = tensors
        .iter()
        .filter(|t| matches!((t.first_step, t.last_step), (Some(a), Some(b)) if u32::from(a) <= r.peak_step && r.peak_step <= u32::from(b)))
        .map(|t| u64::from(t.bytes))
        .sum();
    let peak_op = r
        .ops
        .get(r.peak_step as usize)
        .map_or(String::new(), |o| o.op.clone());
    html! {
        <div class="timeline">
            <svg viewBox={format!("0 0 {W} {H}")} class="arena" role="img" aria-label="arena timeline">
                <rect class="peak" x={format!("{:.1}", x(peak))} y="8" width={format!("{:.1}", x(peak + 1.0) - x(peak))} height={format!("{plot_h:.1}")}>
                    <title>{ format!("peak: step {} ({peak_op}), {} bytes of tensors live", r.peak_step, group(peak_bytes)) }</title>
                </rect>
                { for bars }
                { for ticks }
                { for op_labels }
                <line x1={format!("{LEFT}")} x2={format!("{LEFT}")} y1="8" y2={format!("{:.1}", 8.0 + plot_h)} class="axis" />
            </svg>
            <div class="hovercard" data-testid="tensor-hover">
                { match hovered {
                    Some(t) => html! { <>
                        <strong>{ t.name.clone() }</strong>
                        { format!(" — shape {:?} {} — {} bytes at offset {} — alive steps {}–{}",
                            t.shape, t.dtype, group(u64::from(t.bytes)), group(u64::from(t.offset.unwrap_or(0))),
                            t.first_step.unwrap_or(0), t.last_step.unwrap_or(0)) }
                    </> },
                    None => html! { format!(
                        "{} planned tensors over {} operators; peak at step {} ({peak_op}): {} bytes live. Hover a bar for its tensor.",
                        tensors.len(), r.ops.len(), r.peak_step, group(peak_bytes)) },
                } }
            </div>
        </div>
    }
}
