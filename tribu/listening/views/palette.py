"""The fixed palette of topic colours. Templates show a topic's colour through a CSS class
(listening.css, .topic-c0 … .topic-c9) because the CSP forbids style attributes; a colour
saved outside the palette (through the API) is shown as the nearest palette entry."""

from django.utils.translation import gettext_lazy as _

PALETTE = [
    ("#2563eb", _("Blue")),
    ("#7c3aed", _("Violet")),
    ("#0e7490", _("Teal")),
    ("#15803d", _("Green")),
    ("#b45309", _("Amber")),
    ("#b91c1c", _("Red")),
    ("#be185d", _("Pink")),
    ("#475569", _("Slate")),
    ("#4338ca", _("Indigo")),
    ("#4d7c0f", _("Olive")),
]


def _rgb(colour):
    try:
        return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))
    except (TypeError, ValueError, IndexError):
        return (0, 0, 0)


def colour_class(colour):
    """`topic-cN` for the palette entry equal, or nearest, to a #rrggbb colour."""
    colour = (colour or "").lower()
    for index, (hex_value, _label) in enumerate(PALETTE):
        if hex_value == colour:
            return f"topic-c{index}"
    red, green, blue = _rgb(colour)
    distances = [
        (r - red) ** 2 + (g - green) ** 2 + (b - blue) ** 2
        for r, g, b in (_rgb(hex_value) for hex_value, _label in PALETTE)
    ]
    return f"topic-c{distances.index(min(distances))}"
