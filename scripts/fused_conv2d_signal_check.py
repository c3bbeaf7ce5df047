"""Does a TensorFlow fused-convolution kernel survive signals to the thread running it?

Usage: .venv/bin/python scripts/fused_conv2d_signal_check.py [--op _FusedConv2D] [--onednn-off]
           [--alternate-stack] [--passes 200]

Runs the op eagerly on ResNet50's convolution shapes while a helper thread sends SIGPROF to the
main thread every 0.5 ms, handled by a do-nothing handler on the interrupted thread's own stack, as
Node's sampling profiler (node --cpu-prof) does. Prints "survived" and exits 0, or the process dies
(glibc: "corrupted size vs. prev_size", "free(): invalid size"; or SIGSEGV).

Measured with TensorFlow 2.21 on an Intel Xeon (Sapphire Rapids): _FusedConv2D with --onednn-off
(the kernel an eager call from tfjs-node runs: Eigen's contraction with oneDNN's sgemm) died in 3 runs
of 3; with --alternate-stack, or --op _MklNativeFusedConv2D (oneDNN's op), it survived 3 of 3. Why
src/backends/kernel-fixes/tensorflow-fused.ts runs the oneDNN op and never _FusedConv2D; rerun
this against a new TensorFlow to see whether the bug is still there.
"""
import argparse
import ctypes
import os
import threading
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--op", default="_FusedConv2D", help="_FusedConv2D (TensorFlow's) or _MklNativeFusedConv2D (oneDNN's)")
parser.add_argument("--onednn-off", action="store_true", help="TF_ENABLE_ONEDNN_OPTS=0 (oneDNN's ops are then not registered)")
parser.add_argument("--alternate-stack", action="store_true", help="handle the signal on an alternate stack (SA_ONSTACK)")
parser.add_argument("--passes", type=int, default=200)
args = parser.parse_args()
if args.onednn_off:
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.eager import context, execute  # noqa: E402

SIGPROF = 27
SA_ONSTACK = 0x08000000
libc = ctypes.CDLL(None, use_errno=True)
libc.pthread_self.restype = ctypes.c_ulong
libc.pthread_kill.argtypes = [ctypes.c_ulong, ctypes.c_int]


class Sigaction(ctypes.Structure):
    """glibc's struct sigaction on x86-64 Linux."""
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16), ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]


class StackT(ctypes.Structure):
    _fields_ = [("sp", ctypes.c_void_p), ("flags", ctypes.c_int), ("size", ctypes.c_size_t)]


def install_handler():
    """A C-level handler that returns at once (getpid ignores its argument), never Python's."""
    action = Sigaction()
    action.handler = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    if args.alternate_stack:
        action.flags = SA_ONSTACK
        install_handler.stack = ctypes.create_string_buffer(1 << 16)
        stack = StackT(ctypes.cast(install_handler.stack, ctypes.c_void_p).value, 0, 1 << 16)
        if libc.sigaltstack(ctypes.byref(stack), None) != 0:
            raise OSError(ctypes.get_errno(), "sigaltstack")
    if libc.sigaction(SIGPROF, ctypes.byref(action), None) != 0:
        raise OSError(ctypes.get_errno(), "sigaction")


def fused_convolution(x, filter_, bias):
    attrs = (
        "T", tf.float32.as_datatype_enum, "TArgs", [tf.float32.as_datatype_enum], "num_args", 1, "num_host_args", 0,
        "strides", [1, 1, 1, 1], "padding", b"SAME", "explicit_paddings", [], "data_format", b"NHWC",
        "dilations", [1, 1, 1, 1], "use_cudnn_on_gpu", True, "fused_ops", [b"BiasAdd", b"Relu"],
        "epsilon", 0.0001, "leakyrelu_alpha", 0.2,
    )
    (y,) = execute.execute(args.op.encode(), 1, inputs=[x, filter_, bias], attrs=attrs, ctx=context.context())
    return y


def main():
    rng = np.random.default_rng(0)
    # [size, input channels, output channels, kernel] of ResNet50's convolutions at batch 1.
    shapes = [(56, 64, 64, 1), (56, 64, 64, 3), (56, 64, 256, 1), (28, 128, 128, 3), (14, 256, 256, 3), (7, 512, 512, 3), (112, 3, 64, 7)]
    convolutions = [
        tuple(tf.constant(rng.standard_normal(shape).astype("float32")) for shape in ((1, size, size, cin), (k, k, cin, cout), (cout,)))
        for size, cin, cout, k in shapes
    ]
    install_handler()
    main_thread = libc.pthread_self()
    stop = threading.Event()

    def signal_main_thread():
        while not stop.is_set():
            libc.pthread_kill(main_thread, SIGPROF)
            time.sleep(0.0005)

    threading.Thread(target=signal_main_thread, daemon=True).start()
    for _ in range(args.passes):
        for x, filter_, bias in convolutions:
            fused_convolution(x, filter_, bias).numpy()
    stop.set()
    print(f"survived: {args.passes} passes of {args.op}{' (oneDNN off)' if args.onednn_off else ''}{' (alternate stack)' if args.alternate_stack else ''}")


if __name__ == "__main__":
    main()
