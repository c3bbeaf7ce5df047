"""keras-bridge, Python side: export a Keras 3 model as a keras-bridge bundle.

    import keras_bridge
    path = keras_bridge.export(model, "out/swish", seed=0, batch_size=2)

The bundle format is docs/bundle-format.md. TensorFlow is imported on first use of `export`, so
`python -m keras_bridge --help` stays fast.
"""
__version__ = "0.1.0"

__all__ = ["export", "ExportError", "__version__"]


def __getattr__(name):
    if name == "export":
        from .exporter import export

        return export
    if name == "ExportError":
        from .errors import ExportError

        return ExportError
    raise AttributeError(f"module 'keras_bridge' has no attribute {name!r}")
