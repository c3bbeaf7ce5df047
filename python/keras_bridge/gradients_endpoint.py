"""The SavedModel's `gradients` endpoint (saved_model.py, docs/native-graph.md): one graph that
computes the model's outputs at inference (training=False) and the gradients of the goldens' loss,
sum over float outputs i of sum(outputs[i] * cotangents[i]), with respect to every float input and
every trainable weight.

The weights are inputs of the graph, not the SavedModel's variables: the model runs through
Keras's `stateless_call` with the values fed, so a Node caller computes the gradients of the weights
it holds (a model it trains, or the bundle's weights for parity). Signature names:
- the model's inputs, named as in `serve`;
- `cotangent_<i>` for each float output i (an integer or bool output takes no part in the loss);
- `weight_<k>` for each of model.weights (the manifest's `weights`, in order), trainable or not;
outputs:
- `output_<i>` for each output, as `serve` returns them;
- `grad_input_<i>` for each float input i, `grad_weight_<k>` for each trainable weight k.
A variable Keras tracks outside model.weights (a seed generator's state) stays the SavedModel's own.
"""
from ._tf import tf
from .layer_graph import weight_locations

ENDPOINT = "gradients"


class GradientsEndpointError(Exception):
    """Why a model gets no gradients endpoint, said in the manifest."""


def _is_float(dtype) -> bool:
    return tf.as_dtype(dtype).is_floating


def gradients_endpoint(model, input_specs: list):
    """(traced tf.function, manifest record) of the endpoint; GradientsEndpointError when a model has none."""
    weights = [weight for weight, _, _ in weight_locations(model)]
    index_of = {id(weight): k for k, weight in enumerate(weights)}
    trainable = list(model.trainable_variables)
    non_trainable = list(model.non_trainable_variables)
    untracked = [v.path for v in trainable if id(v) not in index_of]
    if untracked:
        # A trainable variable outside model.weights would have a gradient no golden names.
        raise GradientsEndpointError(f"trainable variables outside the model's weights: {', '.join(untracked)}")
    output_dtypes = [t.dtype for t in model.outputs]
    float_outputs = [i for i, dtype in enumerate(output_dtypes) if _is_float(dtype)]
    if not float_outputs:
        raise GradientsEndpointError("the model has no float output, so the loss has no term")
    float_inputs = [i for i, spec in enumerate(input_specs) if spec.dtype.is_floating]
    cotangent_specs = [
        tf.TensorSpec(shape=(None, *tuple(model.outputs[i].shape)[1:]), dtype=output_dtypes[i], name=f"cotangent_{i}")
        for i in float_outputs
    ]
    weight_specs = [tf.TensorSpec(shape=tuple(w.shape), dtype=w.dtype, name=f"weight_{k}") for k, w in enumerate(weights)]
    n_inputs, n_cotangents = len(input_specs), len(cotangent_specs)

    def gradients(*args):
        inputs = list(args[:n_inputs])
        cotangents = args[n_inputs:n_inputs + n_cotangents]
        fed = args[n_inputs + n_cotangents:]
        trainable_values = [fed[index_of[id(v)]] for v in trainable]
        # Not in model.weights (a seed generator's state): read from the SavedModel's variable.
        non_trainable_values = [fed[index_of[id(v)]] if id(v) in index_of else v.value for v in non_trainable]
        watched = [inputs[i] for i in float_inputs]
        with tf.GradientTape() as tape:
            tape.watch(watched + trainable_values)
            outputs, _ = model.stateless_call(
                trainable_values, non_trainable_values, inputs[0] if n_inputs == 1 else inputs, training=False
            )
        outputs = tf.nest.flatten(outputs)
        grads = tape.gradient(
            [outputs[i] for i in float_outputs],
            watched + trainable_values,
            output_gradients=list(cotangents),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        # An embedding's gradient comes as IndexedSlices; a signature returns dense tensors.
        grads = [tf.convert_to_tensor(g) for g in grads]
        result = {f"output_{i}": output for i, output in enumerate(outputs)}
        result.update({f"grad_input_{i}": g for i, g in zip(float_inputs, grads[: len(watched)])})
        result.update({f"grad_weight_{index_of[id(v)]}": g for v, g in zip(trainable, grads[len(watched):])})
        return result

    traced = tf.function(gradients, input_signature=[*input_specs, *cotangent_specs, *weight_specs])
    traced.get_concrete_function()  # traced now: a failure is this endpoint's, not the archive's
    record = {
        "status": "exported",
        "endpoint": ENDPOINT,
        "cotangents": [{"output": i, "name": spec.name} for i, spec in zip(float_outputs, cotangent_specs)],
        "weights": [f"weight_{k}" for k in range(len(weights))],
        "grad_inputs": [{"input": i, "name": f"grad_input_{i}"} for i in float_inputs],
        "grad_weights": [{"weight": k, "name": f"grad_weight_{k}"} for k in sorted(index_of[id(v)] for v in trainable)],
    }
    return traced, record
