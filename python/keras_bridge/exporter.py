"""`export(model, out_dir)`: a built Keras model in, a keras-bridge bundle (docs/bundle-format.md) out."""
from __future__ import annotations

import numbers
from pathlib import Path

from ._tf import keras, np
from .bundle_writer import (
    GOLDENS_FILE,
    MANIFEST_FILE,
    MODEL_CONFIG_FILE,
    WEIGHTS_FILE,
    TensorPack,
    check_destination,
    to_json_bytes,
    write_bundle,
)
from .differentiability import Differentiability, analyze_layer
from .config_scan import MAX_NAME_CHARS
from .echo import quote_for_message
from .errors import LAMBDA_ADVICE, ExportError
from .float64_reference import measure_float64_reference
from .saved_model import export_saved_model
from .golden_inputs import check_input_ranges
from .graph_fallback import GRAPHS_FILE
from .goldens import LOSS_DEFINITION, compute_goldens, input_names, op_determinism, output_names
from .input_shapes import check_input_shapes, golden_cases
from .model_structure import flat_model, structure_record
from .layer_gradients import check_policy
from .layer_graph import build_layer_graph, flatten_layers, node_zero, weight_locations
from .contract import check_manifest_bytes
from .manifest import build_manifest, custom_layer_records
from .translation import custom_activations
from .optimizer_steps import check_optimizers, train_goldens
from .progress import Progress, emit
from .subclassed_models import SUBCLASSED_MODEL_KEY, describe_class, exported_model, is_subclassed_model, model_config
from .training_mode import TRAINING_STREAM, compute_training_goldens

# The generator of golden case k >= 1 (another size): numpy.random.default_rng([seed, CASE_STREAM, k]).
CASE_STREAM = 2

def refuse_lambda_layers(model) -> None:
    lambdas = [layer.name for layer in flatten_layers(model) if isinstance(layer, keras.layers.Lambda)]
    if lambdas:
        raise ExportError(f"model {quote_for_message(model.name)}: layer {quote_for_message(lambdas[0])} is a Lambda layer; {LAMBDA_ADVICE}")


def refuse_long_names(model) -> None:
    """Each layer name is echoed into a dozen manifest records (a 1 MB name made a 14 MB
    manifest): names beyond config_scan's bound are refused, whatever built the model."""
    for layer in [model, *flatten_layers(model)]:
        if len(layer.name) > MAX_NAME_CHARS:
            raise ExportError(
                f"model {quote_for_message(model.name)}: layer {quote_for_message(layer.name)} has a name of "
                f"{len(layer.name)} characters; keras-bridge accepts at most {MAX_NAME_CHARS}"
            )


def _check_arguments(seed, batch_size) -> tuple:
    """Both as plain ints (numpy integers are fine), or an ExportError."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ExportError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ExportError(f"batch size must be a positive integer, got {batch_size!r}")
    return int(seed), int(batch_size)


def analyze_layers(graph, progress: Progress) -> dict:
    """Differentiability of each layer of model.layers, by name."""
    analysis = {}
    for layer in graph.layers:
        if not node_zero(layer).input_tensors:  # an InputLayer: nothing to differentiate
            analysis[layer.name] = Differentiability(True, [])
            continue
        result = analyze_layer(layer)
        analysis[layer.name] = result
        if result.trace_failure:
            emit(
                progress,
                f"layer {layer.name} could not be traced ({result.trace_failure}); "
                "gradients through it use central finite differences",
            )
        elif not result.python_differentiable:
            emit(
                progress,
                f"layer {layer.name} is not differentiable in Python ({', '.join(result.non_differentiable_ops)}); "
                "gradients through it use central finite differences",
            )
    return analysis


def export(
    model,
    out_dir,
    *,
    seed: int = 0,
    batch_size: int = 2,
    input_ranges: dict | None = None,
    input_shapes: dict | None = None,
    layer_gradients: str | bool = "auto",
    training_mode: bool = True,
    train_steps: int = 0,
    optimizers=("sgd", "adam"),
    float64_reference: bool = False,
    kernel_variants: bool = True,
    saved_model: bool = False,
    rebuild=None,
    source_roots=(),
    progress: Progress = None,
) -> Path:
    """Exports a built Keras 3 model as a bundle at `out_dir` and returns the bundle's path.

    `seed` seeds the golden inputs and cotangents; `batch_size` is their batch dimension.
    `input_ranges` maps integer input names to `high` or `(low, high)`: their golden values are
    drawn from [low, high) instead of the range taken from the model (golden_inputs.py).
    `input_shapes` maps input names to the sizes of their dimensions after the batch, one shape or a
    list (several golden cases); open dimensions nobody sized take a default (input_shapes.py).
    `training_mode`: also record a training=True pass with its random draws (training_mode.py),
    for models whose training mode differs from inference. `train_steps` > 0: also record the
    trainable weights after that many steps of each of `optimizers` ("sgd", "adam"; see
    optimizer_steps.py).
    `layer_gradients` ("auto", "always", "never", or True/False) says whether the goldens include
    dL/dy for every layer output (layer_gradients.py; "auto": when they are small).
    `float64_reference`: also run the passes with a float64 copy of the model and add each golden's
    measured float32 error to its reference_error (float64_reference.py); refused when no golden
    at all could be measured. With it, `kernel_variants` (default True) also exports the goldens
    again under Keras's other float32 kernel variants (oneDNN on, capped at AVX2, off), each in a
    subprocess, and records how far the farthest is from float64 (`kernel_variant_error`,
    kernel_variants.py): parity bounds tfjs by the least accurate of them. `rebuild` (a
    kernel_variants.Rebuild, given by the CLI) says how those processes get the model; without it
    the model is saved to a temporary .keras file.
    `saved_model`: also write the model as a TensorFlow SavedModel under saved_model/ (saved_model.py),
    recorded in the manifest's `saved_model`, or recorded as skipped with why.
    `source_roots`: directories (the CLI's --path) that the custom classes' source files are
    recorded relative to (manifest `custom_layers[].source`); a file under none is recorded absolute.
    `progress`, if given, receives one line per step. Raises ExportError when the model or
    the destination cannot be exported (the CLI's exit code 2); nothing is written then.
    """
    seed, batch_size = _check_arguments(seed, batch_size)
    input_ranges = check_input_ranges(input_ranges)
    input_shapes = check_input_shapes(input_shapes)
    train_steps, optimizers = check_optimizers(train_steps, optimizers)
    layer_gradients = check_policy(layer_gradients)
    out_dir = Path(out_dir)
    check_destination(out_dir)
    if not isinstance(model, keras.Model):
        raise ExportError(f"expected a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ExportError(
            f"model {model.name!r} is not built; give its first layer an input shape or start it "
            "with keras.Input(...)"
        )
    original = model
    # A dict model's passes run on the same graph with lists (model_structure.py).
    model = flat_model(exported_model(original))
    if is_subclassed_model(original):
        emit(progress, f"{original.name} is a subclassed functional model, {describe_class(original)}: exporting its recorded graph")
    graph = build_layer_graph(model)
    refuse_lambda_layers(model)
    refuse_long_names(model)

    graphs_pack = TensorPack()  # the custom layers' graph constants (graph_fallback.py)
    customs = custom_layer_records(model, source_roots, graphs_pack)
    custom_note = ", ".join(r["class_name"] for r in customs)
    emit(
        progress,
        f"exporting {model.name}: {len(graph.layers)} layers, {len(customs)} custom"
        + (f" ({custom_note})" if customs else "")
        + f", seed {seed}, batch size {batch_size}",
    )

    cases = golden_cases(model, input_names(graph), batch_size, input_shapes)
    open_dimensions = any(cases[0].open_axes.values())
    if open_dimensions:
        emit(progress, f"open input dimensions: goldens at {len(cases)} size(s): " + "; ".join(case.name for case in cases))

    with op_determinism():
        analysis = analyze_layers(graph, progress)
        fd_layer_names = [name for name, a in analysis.items() if not a.python_differentiable]

        def goldens_at(case, rng=None):
            return compute_goldens(
                model,
                graph,
                fd_layer_names,
                seed=seed,
                batch_size=batch_size,
                input_ranges=input_ranges,
                layer_gradients=layer_gradients,
                progress=progress,
                shapes=case.shapes,
                rng=rng,
            )

        goldens = goldens_at(cases[0])
        # Other sizes: end to end and per layer (outputs, gradients); training mode, after training
        # and the float64 reference are recorded at the first size only.
        other_sizes = [(case, goldens_at(case, np.random.default_rng([seed, CASE_STREAM, case.index]))) for case in cases[1:]]
        training = compute_training_goldens(model, graph, goldens, seed=seed, progress=progress) if training_mode else None
        runs = train_goldens(model, graph, goldens, steps=train_steps, optimizers=optimizers, progress=progress) if train_steps else []
        variants = (
            {"rebuild": rebuild, "batch_size": batch_size, "input_ranges": input_ranges, "input_shapes": input_shapes, "training_mode": training_mode}
            if float64_reference and kernel_variants
            else None
        )
        reference = (
            measure_float64_reference(model, graph, goldens, training, runs, seed=seed, progress=progress, variants=variants)
            if float64_reference
            else None
        )

    # A subclassed functional model's config holds only constructor arguments: model_config holds
    # its recorded graph (subclassed_models.py), which `model` (its re-wrapped graph) computes.
    serialized = model_config(original)

    weights_pack = TensorPack()
    weight_records = []
    for weight, owner, index in weight_locations(model):
        location = weights_pack.add(weight.numpy(), weight.dtype, f"weight {weight.path!r}")
        weight_records.append(
            {
                "layer": owner.name,
                "index": index,
                "name": weight.name,
                "path": weight.path,
                "trainable": bool(weight.trainable),
                **location,
            }
        )

    goldens_pack = TensorPack()
    tensor_records = [_packed(goldens_pack, tensor) for tensor in goldens.tensors]
    golden_sections = {
        "file": GOLDENS_FILE,
        "loss": {"definition": LOSS_DEFINITION, "value": goldens.loss},
        "gradients": goldens.gradients,
        "tensors": tensor_records,
    }
    if open_dimensions:
        golden_sections["case"] = cases[0].record()
    if other_sizes:
        golden_sections["cases"] = [_case_section(goldens_pack, case, case_goldens, seed) for case, case_goldens in other_sizes]
    if reference is not None:
        golden_sections["reference"] = reference
    if training is not None:
        golden_sections["training"] = _training_section(goldens_pack, training, seed)
    if train_steps:
        golden_sections["after_training"] = _after_training_section(goldens_pack, runs, train_steps, goldens)

    saved_model_files, saved_model_record = (
        export_saved_model(model, input_names(graph), progress) if saved_model else ({}, None)
    )
    manifest = build_manifest(
        model=model,
        model_class_name=serialized.get("class_name", type(model).__name__),
        config_file=MODEL_CONFIG_FILE,
        graph=graph,
        analysis=analysis,
        input_names=input_names(graph),
        output_names=output_names(model),
        weights=weight_records,
        goldens=golden_sections,
        seed=seed,
        batch_size=batch_size,
        custom_layers=customs,
        custom_activations=custom_activations(model),
        subclassed_model=serialized.get(SUBCLASSED_MODEL_KEY),
        structure=structure_record(original),
        saved_model=saved_model_record,
    )

    files = {
        MODEL_CONFIG_FILE: to_json_bytes(serialized, f"model {model.name!r} config"),
        WEIGHTS_FILE: weights_pack.getvalue(),
        GOLDENS_FILE: goldens_pack.getvalue(),
        MANIFEST_FILE: to_json_bytes(manifest, "manifest"),
    }
    if graphs_pack.size:
        files[GRAPHS_FILE] = graphs_pack.getvalue()
    if saved_model:
        files.update(saved_model_files)
    # The TypeScript reader's schema, as JSON Schema: a writer bug fails here, naming the field, not in a reader later.
    check_manifest_bytes(files[MANIFEST_FILE])
    path = write_bundle(out_dir, files)
    emit(
        progress,
        f"wrote {path}: {len(weight_records)} weights ({weights_pack.size} bytes), "
        f"{len(tensor_records)} golden tensors ({goldens_pack.size} bytes), loss {goldens.loss:.6g}",
    )
    return path


def _packed(pack: TensorPack, tensor) -> dict:
    """A GoldenTensor's manifest record, its values appended to `pack`."""
    what = f"golden {tensor.record['kind']} {tensor.record.get('name') or tensor.record.get('layer')!r}"
    location = pack.add(tensor.array, tensor.dtype, what)
    measured = {"float64_error": tensor.float64_error} if tensor.float64_checked else {}
    if tensor.float64_checked and tensor.kernel_variant_error is not None:
        measured["kernel_variant_error"] = tensor.kernel_variant_error
    return {**tensor.record, **location, "source": tensor.source, "reference_error": tensor.reference_error, **measured}


def _case_section(pack: TensorPack, case, goldens, seed: int) -> dict:
    """Another size's goldens: what the main section has, but training mode, after training and the reference."""
    return {
        **case.record(),
        "generator": f"numpy.random.default_rng([{seed}, {CASE_STREAM}, {case.index}])",
        "loss": {"definition": LOSS_DEFINITION, "value": goldens.loss},
        "gradients": goldens.gradients,
        "tensors": [_packed(pack, tensor) for tensor in goldens.tensors],
    }


def _training_section(pack: TensorPack, training, seed: int) -> dict:
    if training.skipped is not None:
        return {"skipped": training.skipped}
    draws = []
    for draw in training.draws:
        location = pack.add(draw.array, "float32", f"random draw of layer {'/'.join(draw.layer_path)!r}")
        draws.append({**draw.record(), **location})
    return {
        "random_draws": {"generator": f"numpy.random.default_rng([{seed}, {TRAINING_STREAM}])", "draws": draws},
        "loss": {"definition": LOSS_DEFINITION, "value": training.loss},
        "tensors": [_packed(pack, tensor) for tensor in training.tensors],
    }


def _after_training_section(pack: TensorPack, runs: list, steps: int, goldens) -> dict:
    return {
        "steps": steps,
        "loss": {"definition": LOSS_DEFINITION, "training": False},
        "gradients": goldens.gradients["method"],
        "runs": [{**run.record(), "tensors": [_packed(pack, tensor) for tensor in run.tensors]} for run in runs],
    }
