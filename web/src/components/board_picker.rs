//! Board selector.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::boards::{fmt_bytes, BOARDS};

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
                { for BOARDS.iter().map(|b| {
                    let flash = b.flash.map_or("external flash".to_string(), |f| format!("{} flash", fmt_bytes(i64::from(f))));
                    html! {
                        <option value={b.id} selected={b.id == props.board}>
                            { format!("{} — {} — {} RAM, {}", b.name, b.chip, fmt_bytes(i64::from(b.ram)), flash) }
                        </option>
                    }
                }) }
            </select>
        </label>
    }
}
