#!/usr/bin/env bash
# Flash per component of a firmware ELF, from its symbols (arm-none-eabi-nm): kernels, front
# end, detector, drivers, formatting, float math, runtime, firmware glue, model (weights,
# parameters, generated code).
# Usage: scripts/size-table.sh ELF [ELF...]   (several ELFs: one column each, e.g. before/after)
# RAM (data + bss) by symbol is listed the same way under "RAM". Symbols the linker did not size
# (alignment, veneers) make the difference between the sum and `arm-none-eabi-size`'s figure.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
command -v arm-none-eabi-nm >/dev/null || { echo "size-table: arm-none-eabi-nm missing (scripts/setup.sh)" >&2; exit 2; }

classify() {
  # stdin: "size type name" (demangled); stdout: "component size" per symbol.
  awk '
    function hex(h,   i, v) { v = 0; h = tolower(h); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
    function comp(n) {
      if (n ~ /aot_model|WEIGHTS|build::MODEL|mote_firmware::build::|::P[0-9]+$|::Q[0-9]+$/) return "model"
      if (n ~ /mote_engine::ops::|mote_engine::fixedpoint|mote_engine::aot/) return "kernels"
      if (n ~ /mote_engine::(interpreter|plan|model)/) return "interpreter"
      if (n ~ /mote_engine::(frontend|resample|pdm)/) return "front end"
      if (n ~ /mote_engine::(detector|pipeline)/) return "detector"
      if (n ~ /core::fmt|flt2dec|dec2flt|fmt::num|core::num::|Display|Debug|mote_firmware::log/) return "formatting"
      if (n ~ /mote_firmware::(mic|board|uart|live|pdm_block)|stm32l4|cortex_m[^_]|DMA|USART|__INTERRUPTS|__EXCEPTIONS|HardFault/) return "drivers"
      if (n ~ /libm::|compiler_builtins::float|__aeabi_[dfi]|__(add|sub|mul|div)[sd]f3/) return "float math"
      if (n ~ /mote_firmware::(pipeline|live|replay|bench|main|buffers)/) return "app (firmware glue)"
      if (n ~ /cortex_m_rt|compiler_builtins|__aeabi|mem(cpy|set|move|cmp)|panic|Reset|__pre_init|DefaultHandler|__RESET_VECTOR|semihosting/) return "runtime"
      return "other"
    }
    { c = comp($0); s[c] += hex($1) }
    END { for (c in s) print c "\t" s[c] }'
}

flash_of() { arm-none-eabi-nm -S --demangle "$1" | awk '$3 ~ /^[tTrRdD]$/ { s = $2; $1 = $2 = $3 = ""; print s, $0 }'; }
ram_of() { arm-none-eabi-nm -S --demangle "$1" | awk '$3 ~ /^[bBdD]$/ { s = $2; $1 = $2 = $3 = ""; print s, $0 }'; }

table() {
  local kind=$1; shift
  local files=() f
  for elf in "$@"; do
    f=$(mktemp); files+=("$f")
    if [ "$kind" = flash ]; then flash_of "$elf"; else ram_of "$elf"; fi | classify >"$f"
  done
  printf '| %s (B) |' "$kind"; for elf in "$@"; do printf ' %s |' "$(basename "$(dirname "$(dirname "$(dirname "$elf")")")")/$(basename "$elf")"; done; echo
  printf '|---|'; for _ in "$@"; do printf -- '---:|'; done; echo
  for c in kernels interpreter "front end" detector drivers formatting "float math" runtime "app (firmware glue)" model other; do
    printf '| %s |' "$c"
    for f in "${files[@]}"; do printf ' %s |' "$(awk -F'\t' -v c="$c" '$1 == c { print $2 }' "$f" | head -1)"; done
    echo
  done
  printf '| unnamed (string constants: error and panic messages, …; vector table, padding) |'
  local i=0 total sum
  for elf in "$@"; do
    sum=$(awk -F'\t' '{ s += $2 } END { print s }' "${files[$i]}")
    if [ "$kind" = flash ]; then total=$(arm-none-eabi-size "$elf" | awk 'NR == 2 { print $1 + $2 }')
    else total=$(arm-none-eabi-size "$elf" | awk 'NR == 2 { print $2 + $3 }'); fi
    printf ' %s |' "$((total - sum))"
    i=$((i + 1))
  done
  echo
  printf '| arm-none-eabi-size |'
  for elf in "$@"; do
    if [ "$kind" = flash ]; then arm-none-eabi-size "$elf" | awk 'NR == 2 { printf " %d (text+data) |", $1 + $2 }'
    else arm-none-eabi-size "$elf" | awk 'NR == 2 { printf " %d (data+bss) |", $2 + $3 }'; fi
  done
  echo
  rm -f "${files[@]}"
}
table flash "$@"
echo
table RAM "$@"
