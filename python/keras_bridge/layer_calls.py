"""Swapping a layer's `call` for a wrapper, and putting back exactly what was there before."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def wrapped_calls(layers, wrap):
    """Sets each layer's `call` to `wrap(layer, current_call)` for the duration.

    The instance attribute Keras's own class `call` was shadowed by, if any, is restored; an
    instance without one gets its class's method back (the attribute is deleted), even if the
    body raises. Wrappers installed by nested uses stack and unwind in order.
    """
    saved = []
    try:
        for layer in layers:
            saved.append((layer, "call" in layer.__dict__, layer.__dict__.get("call")))
            object.__setattr__(layer, "call", wrap(layer, layer.call))
        yield
    finally:
        for layer, had_own, own in reversed(saved):
            if had_own:
                object.__setattr__(layer, "call", own)
            else:
                object.__delattr__(layer, "call")
