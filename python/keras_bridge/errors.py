"""The one exception type that means "the caller's input is at fault" (CLI exit code input_error, 2)."""


class ExportError(Exception):
    """A usage or input problem: bad path, unimportable module, unsupported model, ...

    The message is one line that names the file, module or layer at fault. Anything else
    raised during an export is an internal error (CLI exit code internal_error, 70; exit_codes.py).
    """


LAMBDA_ADVICE = (
    "Lambda layers carry Python bytecode that cannot be loaded safely (safe_mode) nor moved to "
    "TensorFlow.js; rewrite it as a keras.layers.Layer subclass (a custom layer)"
)
