"""One colour per attribution method, for every figure: `gradient` looks the same in the
checks' deletion curves and the text faithfulness panels. Keys are the registry's names
(core/methods.py) plus the table labels of the same method (the CNN's `gradient_norm`).
Matplotlib colours of the tab10 palette; a method without its own (a new registry entry)
gets one of the SPARE colours chosen by its name, the same in every figure."""

from __future__ import annotations

import zlib

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
    "finite_differences": "#e377c2",  # the gradient without autodiff (core/numerical.py)
}
SPARE = ("#bcbd22", "#e377c2", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
         "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")  # tab20's light half and the rest


def method_color(method: str) -> str:
    """The method's colour; crc32, not hash(): Python's string hash changes per process."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    return SPARE[zlib.crc32(method.encode()) % len(SPARE)]
