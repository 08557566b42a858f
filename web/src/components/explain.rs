//! Workshop mode's explanation beside a panel.

use yew::prelude::*;

/// Props of [`Explain`].
#[derive(Properties, PartialEq)]
pub struct ExplainProps {
    /// Whether workshop mode is on.
    pub show: bool,
    /// The explanation.
    pub children: Html,
}

/// A short explanation, shown only in workshop mode.
#[function_component(Explain)]
pub fn explain(props: &ExplainProps) -> Html {
    if !props.show {
        return html! {};
    }
    html! { <aside class="explain">{ props.children.clone() }</aside> }
}
