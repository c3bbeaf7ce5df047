"""Each golden's own float32 error, measured against a float64 copy of the model (`float64_reference`).

Keras in float32 is not the exact answer: where a model is ill-conditioned (BatchNormalization in
training mode over a handful of values per channel), its float32 rounding is amplified layer by
layer, and tfjs, rounding differently, lands as far from Keras as Keras is from the exact value.
This measures that error for each golden: the exporter's passes run again by a float64 copy of the
model (every layer's dtype policy float64, the same weights cast to float64) on the same inputs and
cotangents, training mode replaying the same recorded random draws, and

    float64_error = max |golden (float32) - the float64 copy's value|      (in float64)

is added to the golden's `reference_error` (to a finite-difference estimate, when it has one), which
the parity engine adds to atol.

The copy comes from the model's own config with every float dtype replaced, deserialized with
safe_mode on and only the classes the model's layers already are as custom objects: no code runs
that building the model did not run. What cannot be measured is listed with why, and its
reference_error is left as it was:

- a layer whose outputs stay float32 in the copy (a tf.py_function with Tout=float32): outputs of it
  and of every layer downstream, and every gradient (the backward pass reads all of them);
- a gradient that flows through a finite-difference layer (the float64 tape cannot differentiate
  it either; the copy's tape stops there);
- training mode, when replaying the recorded draws in the copy asks for other draws;
- after-training weights: the optimizer steps are not re-run in float64.

The export fails only when nothing at all could be measured (the copy could not be built or run):
the user asked for the measurement, and a bundle that claims it without one would mislead.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ._tf import keras, np, tf
from .errors import ExportError
from .goldens import (
    Goldens,
    _flat_numpy,
    gradient_goldens,
    layer_output_goldens,
    layer_output_probe,
    model_arguments,
    taped_gradients,
    trainable_weights,
)
from .layer_calls import wrapped_calls
from .layer_gradients import LayerOutputTaps
from .layer_graph import LayerGraph, build_layer_graph, flatten_layers, weight_locations
from .progress import Progress, emit
from .random_draws import RandomDraws, ReplayMismatch, UnrecordableRandomness
from .subclassed_models import model_config
from . import kernel_variants

DEFINITION = (
    "float64_error = max |golden - the same value computed by a float64 copy of the model (same weights, "
    "inputs, cotangents and random draws)|, added to reference_error"
)
FLOAT_POLICIES = {"float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16"}
FORWARD_KINDS = {"output", "layer_output", "weight_after_pass"}
GRADIENT_KINDS = {"grad_input", "grad_weight", "grad_layer_output"}
NOT_COMPUTED_KINDS = {"input", "cotangent"}
AFTER_TRAINING_REASON = "the optimizer steps are not re-run in float64"


class Float64Unavailable(Exception):
    """The float64 copy could not be built or run; the message says why."""


@dataclass
class _Section:
    """One section's goldens and the float64 copy's values for them, by golden key."""

    name: str  # "goldens", "training", "after_training"
    tensors: list  # GoldenTensor
    values: dict = field(default_factory=dict)  # key -> float64 array
    tainted: set = field(default_factory=set)  # names of layers whose outputs stayed below float64
    reason: str | None = None  # why nothing in the section was measured
    ref_fields: dict = field(default_factory=dict)  # what else tells its goldens apart (an after-training run's optimizer)


def _key(record: dict) -> tuple:
    return (record["kind"], record.get("layer"), record.get("node"), record.get("index"))


def _golden_ref(section: "_Section", record: dict) -> dict:
    ref = {"section": section.name, **section.ref_fields, "kind": record["kind"]}
    ref.update({k: record[k] for k in ("layer", "node", "index", "name") if k in record})
    return ref


# ----- the float64 copy ------------------------------------------------------------------------


def _float64_config(node):
    """A serialized config with every float dtype (policy or plain name) replaced by float64."""
    if isinstance(node, list):
        return [_float64_config(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(node.get("config"), dict):
        if node["config"].get("name") in FLOAT_POLICIES:
            return {**node, "config": {**node["config"], "name": "float64"}}
        return node
    return {
        key: "float64" if key == "dtype" and isinstance(value, str) and value in FLOAT_POLICIES else _float64_config(value)
        for key, value in node.items()
    }


def _own_classes(model) -> dict:
    """The classes of the model's layers, by class and registered name: the only custom objects the copy may use."""
    objects: dict = {}
    for layer in [model, *flatten_layers(model)]:
        cls = type(layer)
        objects.setdefault(cls.__name__, cls)
        registered = keras.saving.get_registered_name(cls)
        if registered:
            objects.setdefault(registered, cls)
    return objects


def float64_copy(model):
    """The model rebuilt with every float dtype float64, its weights cast; Float64Unavailable when Keras cannot."""
    try:
        config = _float64_config(model_config(model))
        copy = keras.saving.deserialize_keras_object(config, custom_objects=_own_classes(model), safe_mode=True)
    except Exception as exc:
        raise Float64Unavailable(f"rebuilding the model from its config with float64 dtypes failed: {_described(exc)}") from None
    theirs = {(owner.name, index): weight for weight, owner, index in weight_locations(model)}
    mine = weight_locations(copy)
    if len(mine) != len(theirs):
        raise Float64Unavailable(f"the float64 copy has {len(mine)} weights, the model {len(theirs)}")
    for weight, owner, index in mine:
        source = theirs.get((owner.name, index))
        if source is None or tuple(source.shape) != tuple(weight.shape):
            raise Float64Unavailable(f"weight {index} of layer {owner.name!r} has no counterpart of the same shape in the model")
        weight.assign(np.asarray(source.numpy(), dtype=np.dtype(weight.dtype)))
    # Sub-layers a layer names itself (MultiHeadAttention's Dropout) are numbered per process:
    # the copy's take the model's names, under which the training draws were recorded.
    for original, copied in zip(flatten_layers(model), flatten_layers(copy)):
        if type(original) is type(copied):
            copied.name = original.name
    return copy


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)


def _described(exc: BaseException) -> str:
    """The first line of the innermost cause: Keras wraps a layer's own error in generic ones."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _stopped_gradients(layers: list):
    """The layers' outputs end the copy's tape (finite-difference layers: no float64 gradient through them)."""
    from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

    def stop(tensor):
        if not tf.is_tensor(tensor) or not tensor.dtype.is_floating:
            return tensor
        stopped = tf.stop_gradient(tensor)
        mask = get_keras_mask(tensor)
        if mask is not None:
            set_keras_mask(stopped, mask)
        return stopped

    def wrap(layer, call):
        return lambda *args, **kwargs: keras.tree.map_structure(stop, call(*args, **kwargs))

    return wrapped_calls(layers, wrap)


def _below_float64(locations: list, values: list) -> set:
    return {layer.name for (layer, _), value in zip(locations, values) if np.issubdtype(value.dtype, np.floating) and value.dtype != np.float64}


# ----- the passes ------------------------------------------------------------------------------


@dataclass
class _Copy:
    model: object
    graph: LayerGraph
    inputs: list  # GoldenInput, float arrays as float64
    fd_layers: list  # the copy's finite-difference layers

    @property
    def trainable(self) -> list:
        # The backing tf.Variables: the tape's zeros for a gradient the copy's tape stopped need a TF dtype.
        return [getattr(weight, "value", weight) for weight in trainable_weights(self.model)]

    def arguments(self):
        return model_arguments([tf.constant(i.array) for i in self.inputs])


def _inference_values(copy: _Copy, goldens: Goldens, section: _Section) -> None:
    locations, probe = layer_output_probe(copy.model, copy.graph)
    layer_values = _flat_numpy(probe(copy.arguments(), training=False))
    section.tainted = _below_float64(locations, layer_values)
    outputs = _flat_numpy(copy.model(copy.arguments(), training=False))
    included = goldens.gradients["layer_output_gradients"]["included"]
    taps = LayerOutputTaps.planned(copy.graph, locations, layer_values, "always" if included else "never")
    with _stopped_gradients(copy.fd_layers):
        _, grads = taped_gradients(copy.model, copy.inputs, goldens.cotangents, copy.trainable, None, 1.0, around=taps.installed())
    tensors = [*_outputs(outputs), *layer_output_goldens(locations, layer_values)]
    tensors += gradient_goldens(copy.model, copy.graph, copy.inputs, [], grads, None)
    tensors += taps.goldens(taps.gradients(), None, [])
    section.values = {_key(t.record): t.array for t in tensors}


def _training_values(copy: _Copy, goldens: Goldens, training, seed: int, section: _Section) -> None:
    from .training_mode import TRAINING_STREAM, WeightSnapshot

    draws = RandomDraws(copy.model, np.random.default_rng([seed, TRAINING_STREAM]))
    draws.draws = {(d.layer_path, d.call, d.index): d for d in training.draws}
    snapshot = WeightSnapshot(copy.model)
    locations, probe = layer_output_probe(copy.model, copy.graph)

    def replaying():
        draws.new_pass()
        return draws.installed()

    try:
        with replaying():
            layer_values = _flat_numpy(probe(copy.arguments(), training=True))
        after_pass = {(owner.name, index): weight.numpy() for weight, owner, index in snapshot.locations}
        snapshot.restore()
        with replaying():
            outputs = _flat_numpy(copy.model(copy.arguments(), training=True))
        snapshot.restore()
        with _stopped_gradients(copy.fd_layers):
            _, grads = taped_gradients(copy.model, copy.inputs, goldens.cotangents, copy.trainable, None, 1.0, training=True, around=replaying())
    except (UnrecordableRandomness, ReplayMismatch) as exc:
        section.reason = f"replaying the recorded random draws in the float64 copy failed: {exc}"
        return
    finally:
        snapshot.restore()
    extra = [d for key, d in draws.draws.items() if key not in {(r.layer_path, r.call, r.index) for r in training.draws}]
    if extra:
        section.reason = f"the float64 copy's layer {'/'.join(extra[0].layer_path)!r} drew random numbers the float32 pass did not"
        return
    section.tainted = _below_float64(locations, layer_values)
    tensors = [*_outputs(outputs), *layer_output_goldens(locations, layer_values)]
    tensors += gradient_goldens(copy.model, copy.graph, copy.inputs, [], grads, None)
    section.values = {_key(t.record): t.array for t in tensors}
    section.values.update({("weight_after_pass", layer, None, index): value for (layer, index), value in after_pass.items()})


def _outputs(arrays: list) -> list:
    from .goldens import GoldenTensor

    return [GoldenTensor({"kind": "output", "index": i}, array, array.dtype.name) for i, array in enumerate(arrays)]


# ----- the measurement -------------------------------------------------------------------------


def _reason_not_measured(tensor, section: _Section, graph: LayerGraph, output_layers: list) -> str | None:
    if section.reason is not None:
        return section.reason
    kind = tensor.record["kind"]
    if kind in GRADIENT_KINDS and tensor.source == "finite_difference":
        return "the gradient flows through a finite-difference layer, which the float64 tape does not differentiate either"
    if section.tainted and kind in GRADIENT_KINDS:
        return f"layer {sorted(section.tainted)[0]!r} computes below float64 in the float64 copy, and every gradient reads its output"
    if section.tainted and kind in FORWARD_KINDS:
        layer = output_layers[tensor.record["index"]] if kind == "output" else _graph_layer(graph, tensor.record["layer"])
        upstream = _tainted_upstream(layer, section.tainted, graph)
        if upstream is not None:
            return f"layer {upstream!r} computes below float64 in the float64 copy (e.g. a tf.py_function with Tout=float32), and this value depends on it"
    if _key(tensor.record) not in section.values:
        return "the float64 copy computed no such value"
    return None


def _graph_layer(graph: LayerGraph, name: str):
    return next((layer for layer in graph.layers if layer.name == name), None)


def _tainted_upstream(layer, tainted: set, graph: LayerGraph) -> str | None:
    if layer is None:
        return sorted(tainted)[0]
    if layer.name in tainted:
        return layer.name
    upstream = graph.ancestors(layer)
    return next((other.name for other in graph.layers if other.name in tainted and id(other) in upstream), None)


def _apply(section: _Section, graph: LayerGraph, output_layers: list, not_measured: dict, variants: list) -> tuple:
    """Sets float64_error (and adds it to reference_error) and kernel_variant_error on the section's
    goldens; (measured, worst)."""
    measured, worst = 0, (0.0, None)
    for tensor in section.tensors:
        if tensor.record["kind"] in NOT_COMPUTED_KINDS:
            continue
        tensor.float64_checked = True
        reason = _reason_not_measured(tensor, section, graph, output_layers)
        if reason is not None:
            not_measured.setdefault(reason, []).append(_golden_ref(section, tensor.record))
            continue
        exact = section.values[_key(tensor.record)]
        golden = np.asarray(tensor.array, np.float64)
        if golden.shape != exact.shape:
            not_measured.setdefault("the float64 copy's value has another shape", []).append(_golden_ref(section, tensor.record))
            continue
        error = float(np.max(np.abs(golden - exact))) if golden.size else 0.0
        tensor.float64_error = error
        tensor.reference_error = (tensor.reference_error or 0.0) + error
        tensor.kernel_variant_error = _variant_error(section.name, tensor.record, exact, variants)
        measured += 1
        if error >= worst[0]:
            worst = (error, f"{section.name} {tensor.record['kind']} {tensor.record.get('layer') or tensor.record.get('name') or tensor.record.get('index')}")
    return measured, worst


def _variant_error(section: str, record: dict, exact, variants: list) -> float | None:
    """max over the kernel variants of max |variant - float64 value|; None unless every variant has the value."""
    measured = [v.values.get((section, _key(record))) for v in variants if v.reason is None]
    if not variants or len(measured) < len(variants) or any(m is None or m.shape != exact.shape for m in measured):
        return None
    return max((float(np.max(np.abs(np.asarray(m, np.float64) - exact))) if m.size else 0.0) for m in measured)


def _expected_for_variants(goldens: Goldens, training, model) -> tuple:
    """What a variant run must reproduce exactly: inputs and cotangents by (section, key), and weights.bin."""
    from .bundle_writer import TensorPack

    expected = {}
    sections = [("goldens", goldens.tensors)] + ([("training", training.tensors)] if training is not None and training.skipped is None else [])
    for name, tensors in sections:
        for tensor in tensors:
            if tensor.record["kind"] in NOT_COMPUTED_KINDS:
                expected[(name, _key(tensor.record))] = np.asarray(tensor.array)
    pack = TensorPack()
    for weight, _, _ in weight_locations(model):
        pack.add(weight.numpy(), weight.dtype, "weight")
    return expected, pack.getvalue()


def measure_float64_reference(
    model, graph: LayerGraph, goldens: Goldens, training, runs: list, *, seed: int, progress: Progress = None, variants: dict | None = None
) -> dict:
    """Measures every golden's float32 error against a float64 copy; returns the manifest's goldens.reference.

    `variants`: the export's arguments for re-running it under Keras's other float32 kernel variants
    (kernel_variants.py): rebuild, batch_size, input_ranges, training_mode; None: not run."""
    sections = [_Section("goldens", goldens.tensors)]
    if training is not None:
        sections.append(_Section("training", training.tensors, reason=None if training.skipped is None else "training mode was not recorded"))
    for run in runs:
        sections.append(_Section("after_training", run.tensors, reason=AFTER_TRAINING_REASON, ref_fields={"optimizer": run.optimizer}))
    emit(progress, "float64 reference: running the model again in float64 to measure each golden's own float32 error")
    try:
        copy_model = float64_copy(model)
        fd_names = {layer.name for layer in goldens.fd_layers}
        copy = _Copy(
            copy_model,
            build_layer_graph(copy_model),
            [dataclasses.replace(i, array=i.array.astype(np.float64)) if i.differentiable else i for i in goldens.inputs],
            [layer for layer in copy_model.layers if layer.name in fd_names],
        )
    except (Float64Unavailable, ExportError) as exc:
        raise _nothing_measured(str(exc)) from None
    passes = [lambda: _inference_values(copy, goldens, sections[0])]
    if training is not None:
        passes.append(lambda: _training_values(copy, goldens, training, seed, sections[1]))
    for section, run in zip(sections, passes):
        if section.reason is not None:
            continue
        try:
            run()
        except Exception as exc:  # a layer that cannot run in float64
            section.reason = f"the float64 copy could not run this pass: {_described(exc)}"

    variant_results = []
    if variants is not None:
        expected, expected_weights = _expected_for_variants(goldens, training, model)
        variant_results = kernel_variants.run_variants(
            model, seed=seed, layer_gradients_included=bool(goldens.gradients["layer_output_gradients"]["included"]),
            expected=expected, expected_weights=expected_weights, key=_key, progress=progress, **variants,
        )
        for result in variant_results:
            if result.reason is not None:
                emit(progress, f"kernel variants: {result.variant.name} not measured: {result.reason}")

    output_layers = [t._keras_history.operation for t in model.outputs]
    not_measured: dict = {}
    measured, worst = 0, (0.0, None)
    for section in sections:
        count, section_worst = _apply(section, graph, output_layers, not_measured, variant_results)
        measured += count
        worst = max(worst, section_worst, key=lambda w: w[0])
    if measured == 0:
        raise _nothing_measured("; ".join(not_measured) or "no golden to measure")
    skipped = sum(len(refs) for refs in not_measured.values())
    emit(progress, f"float64 reference: {measured} goldens measured, largest float32 error {worst[0]:.3g} ({worst[1]})")
    for reason, refs in not_measured.items():
        emit(progress, f"float64 reference: {len(refs)} goldens not measured (reference_error left as it was): {reason}")
    with_variants = sum(1 for s in sections for t in s.tensors if getattr(t, "kernel_variant_error", None) is not None)
    if variant_results:
        worst_variant = max(
            ((t.kernel_variant_error / t.float64_error, s.name, t.record) for s in sections for t in s.tensors
             if getattr(t, "kernel_variant_error", None) is not None and t.float64_error),
            default=None, key=lambda w: w[0],
        )
        note = f"; largest kernel_variant_error / float64_error {worst_variant[0]:.3g}" if worst_variant else ""
        emit(progress, f"kernel variants: {with_variants} goldens measured under {', '.join(r.variant.name for r in variant_results if r.reason is None) or 'none'}{note}")
    variant_section = {
        "definition": kernel_variants.DEFINITION,
        "export_variant": kernel_variants.current_variant(),
        "variants": [
            {"name": r.variant.name, "env": {k: v for k, v in r.variant.env.items() if v is not None}, "measured": r.reason is None,
             **({"reason": r.reason} if r.reason else {})}
            for r in variant_results
        ],
        "measured": with_variants,
    } if variants is not None else None
    return {
        "float64": True,
        "definition": DEFINITION,
        **({"kernel_variants": variant_section} if variant_section is not None else {}),
        "measured": measured,
        "not_measured_count": skipped,
        "not_measured": [{"reason": reason, "goldens": refs} for reason, refs in not_measured.items()],
    }


def _nothing_measured(reason: str) -> ExportError:
    return ExportError(
        f"float64 reference: no golden could be measured ({reason}); export without --float64-reference "
        "(float64_reference=False)"
    )
