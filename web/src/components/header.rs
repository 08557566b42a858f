//! Title bar with the workshop-mode toggle.

use yew::prelude::*;

/// Props of [`Header`].
#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// Workshop mode on.
    pub workshop: bool,
    /// Toggles workshop mode.
    pub on_toggle: Callback<()>,
}

/// The page header.
#[function_component(Header)]
pub fn header(props: &HeaderProps) -> Html {
    let onchange = props.on_toggle.reform(|_: Event| ());
    html! {
        <header class="top">
            <h1>{ "Mote" }<span class="sub">{ " — wake words on a microcontroller, tried in your browser" }</span></h1>
            <label class="toggle" title="Adds a short explanation beside each panel">
                <input type="checkbox" data-testid="workshop-toggle" checked={props.workshop} {onchange} />
                { " Workshop mode" }
            </label>
            <p class="privacy">{ "Everything runs here, in WebAssembly: no audio or model leaves this machine." }</p>
        </header>
    }
}
