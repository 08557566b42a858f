//! Board selector.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::boards::{choices, fmt_bytes};

/// Props of [`BoardPicker`].
#[derive(Properties, PartialEq)]
pub struct BoardPickerProps {
    /// Selected board id.
    pub board: String,
    /// Called with the new board id.
    pub on_select: Callback<String>,
}

/// A `<select>` of the boards, export targets first.
#[function_component(BoardPicker)]
pub fn board_picker(props: &BoardPickerProps) -> Html {
    let on_select = props.on_select.clone();
    let onchange = Callback::from(move |e: Event| {
        if let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() {
            on_select.emit(sel.value());
        }
    });
    html! {
        <label class="board-picker">{ "Board: " }
            <select data-testid="board-picker" {onchange}>
                { for choices().into_iter().map(|c| {
                    let b = c.board;
                    html! {
                        <option value={b.id} selected={b.id == props.board}>
                            { format!("{} — {} — {} RAM, {} flash{}", b.name, b.chip, fmt_bytes(i64::from(b.ram_mic)),
                                fmt_bytes(i64::from(b.flash)), if c.export { "" } else { " (comparison, no export)" }) }
                        </option>
                    }
                }) }
            </select>
        </label>
    }
}
