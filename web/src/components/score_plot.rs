//! Scrolling plot of each label's score with the detection threshold.

use std::rc::Rc;

use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use super::spectrogram::context_2d;
use crate::pipeline::PlotSpec;
use crate::state::{LiveView, HISTORY_S};

/// Props of [`ScorePlot`].
#[derive(Properties, PartialEq)]
pub struct ScorePlotProps {
    /// Live data.
    pub live: Rc<LiveView>,
    /// Labels, which may fire (the others are drawn faint), threshold.
    pub spec: PlotSpec,
}

const COLOURS: &[&str] = &[
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// Draws on a 2D canvas whenever new scores arrive.
#[function_component(ScorePlot)]
pub fn score_plot(props: &ScorePlotProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let live = props.live.clone();
        let spec = props.spec.clone();
        let (labels, fires, cutoff) = (spec.labels, spec.fires, spec.threshold);
        use_effect_with((props.live.seq, props.spec.clone()), move |_| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                draw(&c, &live, &labels, &fires, cutoff);
            }
        });
    }
    html! {
        <div class="plot">
            <canvas ref={canvas} width="880" height="180" data-testid="score-plot" />
            <div class="legend">
                { for props.spec.labels.iter().enumerate().map(|(i, l)| html! {
                    <span class={classes!("key", (!props.spec.fires.get(i).copied().unwrap_or(true)).then_some("faint"))}>
                        <span class="swatch" style={format!("background:{}", COLOURS[i % COLOURS.len()])} />{ l.clone() }
                    </span>
                }) }
                <span class="key"><span class="swatch dashed" />{ format!("threshold {:.2}", props.spec.threshold) }</span>
            </div>
        </div>
    }
}

fn draw(c: &HtmlCanvasElement, live: &LiveView, labels: &[String], fires: &[bool], cutoff: f32) {
    let Some(ctx) = context_2d(c) else {
        return;
    };
    let (w, h) = (f64::from(c.width()), f64::from(c.height()));
    ctx.set_fill_style_str("#0f172a");
    ctx.fill_rect(0.0, 0.0, w, h);
    let y = |v: f64| h - 4.0 - v * (h - 8.0);
    // Threshold.
    ctx.set_stroke_style_str("#facc15");
    ctx.set_line_width(1.0);
    let _ = ctx.set_line_dash(&js_sys::Array::of2(&6.into(), &4.into()));
    ctx.begin_path();
    ctx.move_to(0.0, y(f64::from(cutoff)));
    ctx.line_to(w, y(f64::from(cutoff)));
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
    let Some(t_end) = live.history.back().map(|i| i.t) else {
        return;
    };
    let x = |t: f64| w - (t_end - t) / HISTORY_S * w;
    for (k, _) in labels.iter().enumerate() {
        let faint = !fires.get(k).copied().unwrap_or(true);
        ctx.set_stroke_style_str(COLOURS[k % COLOURS.len()]);
        ctx.set_global_alpha(if faint { 0.35 } else { 1.0 });
        ctx.set_line_width(if faint { 1.0 } else { 2.0 });
        ctx.begin_path();
        for (j, inv) in live.history.iter().enumerate() {
            let v = f64::from(inv.scores.get(k).copied().unwrap_or(0.0));
            if j == 0 {
                ctx.move_to(x(inv.t), y(v));
            } else {
                ctx.line_to(x(inv.t), y(v));
            }
        }
        ctx.stroke();
    }
    ctx.set_global_alpha(1.0);
    // Detections as markers.
    ctx.set_fill_style_str("#f8fafc");
    for d in &live.detections {
        if d.t >= t_end - HISTORY_S {
            ctx.fill_rect(x(d.t) - 1.0, 0.0, 2.0, h);
        }
    }
}
