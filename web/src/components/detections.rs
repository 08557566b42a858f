//! Detection events, newest first.

use std::rc::Rc;

use yew::prelude::*;

use crate::state::LiveView;

/// Props of [`Detections`].
#[derive(Properties, PartialEq)]
pub struct DetectionsProps {
    /// Live data.
    pub live: Rc<LiveView>,
}

/// The list of detections (label, time, score).
#[function_component(Detections)]
pub fn detections(props: &DetectionsProps) -> Html {
    html! {
        <div class="detections">
            <ul data-testid="detections">
                { for props.live.detections.iter().map(|d| html! {
                    <li><strong>{ d.label.clone() }</strong>{ format!(" at {:.2} s, score {:.2}", d.t, d.score) }</li>
                }) }
            </ul>
            if props.live.detections.is_empty() {
                <p class="empty">{ "No detections yet." }</p>
            }
        </div>
    }
}
