"""One colour per attribution method, for every figure: `gradient` looks the same in the
checks' deletion curves and the text faithfulness panels. Keys are the registry's names
(core/methods.py) plus the table labels of the same method (the CNN's `gradient_norm`).
Matplotlib colours of the tab10 palette; methods without one are drawn in FALLBACK."""

from __future__ import annotations

METHOD_COLORS = {
    "gradient": "#d62728",
    "gradient_norm": "#d62728",  # the text tables' name of the CNN's per-word gradient norm
    "gradient_x_input": "#ff7f0e",
    "integrated_gradients": "#2ca02c",
    "smoothgrad": "#9467bd",
    "occlusion": "#000000",
    "lime": "#1f77b4",
    "gbar": "#8c564b",
    "logistic_regression": "#17becf",
    "random": "#7f7f7f",
}
FALLBACK = "#333333"


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, FALLBACK)
