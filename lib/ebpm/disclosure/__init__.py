"""Disclosure control: primary/secondary suppression, ``show``, the render-time gate and its HTML."""

from ebpm._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "show": "ebpm.disclosure.protect",
        "suppress": "ebpm.disclosure.protect",
        "Suppressed": "ebpm.disclosure.protect",
        "check_outputs": "ebpm.disclosure.gate",
    },
)
