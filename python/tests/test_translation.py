"""Route 1's translator (python/keras_bridge/translation): what it records, where it stops, and the
mapping table's consistency with its TypeScript half and its documentation."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import keras
import pytest
import tensorflow as tf
from keras import layers, ops

from keras_bridge.class_source import source_records, user_base_classes
from keras_bridge.translation import translation_record
from keras_bridge.translation import op_table

REPO = Path(__file__).resolve().parents[2]


def record_for(layer, shape=(4,)):
    inputs = keras.Input(shape)
    keras.Model(inputs, layer(inputs))
    cls = type(layer)
    return translation_record(cls, layer, source_records(cls, [str(Path(__file__).parent)])["source"], user_base_classes(cls))


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.gain = self.add_weight(name="gain", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return ops.tanh(x * self.factor) * self.gain


class BranchOnValue(layers.Layer):
    def call(self, x):
        if ops.mean(x) > 0:
            return x
        return -x

    def compute_output_shape(self, input_shape):
        return input_shape


class UsesUnknownOp(layers.Layer):
    def call(self, x):
        y = tf.linalg.svd(x)[0]
        return y + x


class Child(Scale):
    pass


def test_a_layer_of_ops_and_weights_translates_to_one_typescript_class():
    record = record_for(Scale(3.0))
    assert record["status"] == "translated"
    text = record["typescript"]
    assert "export class Scale extends TranslatedLayer" in text
    assert "this.kerasWeight({ name: 'gain', shape: [py.at(inputShape, -1)], initializer: 'ones' })" in text
    assert "tf.tanh(kops.multiply(x, this.factor))" in text
    assert "registerLayer('Scale', Scale, z.object({ factor: z.number().nullable() })" in text


def test_a_branch_on_a_tensor_value_is_a_gap_quoting_its_line():
    record = record_for(BranchOnValue())
    assert record["status"] == "gaps"
    (gap,) = record["gaps"]
    assert gap["code"] == "if ops.mean(x) > 0:"
    assert Path(__file__).read_text().splitlines()[gap["line"] - 1].strip() == gap["code"]
    assert "Python `if` on a tensor's value" in gap["why"]


def test_a_call_outside_the_table_is_named_as_written_and_later_uses_are_not_reported_again():
    record = record_for(UsesUnknownOp(), shape=(3, 3))
    assert record["status"] == "gaps"
    assert [g["code"] for g in record["gaps"]] == ["y = tf.linalg.svd(x)[0]"]
    assert record["gaps"][0]["why"].startswith("tf.linalg.svd (")


def test_a_class_inheriting_from_a_user_class_is_refused_with_the_reason():
    record = record_for(Child())
    assert record["status"] == "gaps"
    assert "inherits from the user class(es) Scale" in record["gaps"][0]["why"]


def test_every_python_name_of_the_table_resolves_to_a_live_function():
    missing = [name for row in op_table.ROWS for name in row.python_names if op_table._resolve(name) is None]
    assert missing == []


def test_every_kops_function_of_the_table_is_exported_by_the_typescript_runtime():
    runtime = (REPO / "src" / "translated" / "keras-ops.ts").read_text()
    exported = set(re.findall(r"^export (?:function|const) (\w+)", runtime, re.M)) | {"kerasLayer"}
    wanted = {row.ts.split(".", 1)[1] for row in op_table.ROWS if row.ts.startswith("kops.")}
    assert sorted(wanted - exported) == []
    tf_names = {row.ts.split(".", 1)[1] for row in op_table.ROWS if row.ts.startswith("tf.")}
    # tfjs functions the table calls directly: checked against tfjs's own type declarations.
    declarations = (REPO / "node_modules" / "@tensorflow" / "tfjs-core" / "dist" / "ops" / "ops.d.ts").read_text()
    assert sorted(n for n in tf_names if not re.search(rf"\b{n}\b", declarations)) == []


def test_the_documented_table_is_the_table():
    documented = (REPO / "docs" / "translation-table.md").read_text()
    assert op_table.markdown() in documented
