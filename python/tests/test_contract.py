"""The contract with TypeScript: manifests the writer produces match the JSON Schema generated from the
zod manifest schema (schemas/bundle-manifest.schema.json), and the validator applies every keyword."""
import copy
import json

import pytest

import keras_bridge
from bundle_io import read_bundle
from conftest import REPO_ROOT, build_seed_model
from keras_bridge import cli, contract
from keras_bridge.contract import MANIFEST_SCHEMA, ContractError, ManifestContractError, SchemaError, errors, validate

FIXTURE_MANIFESTS = sorted((REPO_ROOT / "fixtures" / "bundles").rglob("manifest.json"))


def _messages(schema, value):
    return [str(e) for e in errors(schema, value)]


# ---- the validator, keyword by keyword ----


@pytest.mark.parametrize(
    "schema, good, bad, message",
    [
        ({"type": "string", "minLength": 1}, "a", "", "at least 1 character"),
        ({"type": "string", "maxLength": 2}, "ab", "abc", "at most 2 characters"),
        ({"type": "string", "pattern": "^a"}, "ab", "ba", "matching /^a/"),
        ({"type": "integer"}, 3, 3.5, "expected integer, got number 3.5"),
        ({"type": "integer"}, 3.0, True, "expected integer, got boolean True"),  # bool is no JSON number
        ({"type": "number"}, 1.5, "1.5", "expected number, got string"),
        ({"type": "number"}, 1, float("nan"), "expected number"),
        ({"type": "integer", "minimum": 0}, 0, -1, "expected a number >= 0"),
        ({"type": "integer", "exclusiveMinimum": 0}, 1, 0, "expected a number > 0"),
        ({"type": "number", "maximum": 1}, 1, 1.01, "expected a number <= 1"),
        ({"type": "number", "exclusiveMaximum": 1}, 0.5, 1, "expected a number < 1"),
        ({"type": "boolean"}, False, 0, "expected boolean, got number 0"),
        ({"type": "null"}, None, 0, "expected null"),
        ({"const": "output"}, "output", "input", 'expected "output"'),
        ({"const": 1}, 1, True, "expected 1"),
        ({"enum": ["a", "b"]}, "b", "c", 'expected one of "a", "b"'),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 1}, [1], [], "at least 1 item"),
        ({"type": "array", "items": {"type": "integer"}, "maxItems": 1}, [1], [1, 2], "at most 1 items"),
        ({"type": "array", "items": {"type": "integer"}}, [1, 2], [1, "x"], "field '[1]': expected integer"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}, {"a": "x"}, {}, "field 'a': required, missing"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x"}, {"a": "x", "b": 1}, "field 'b': not a field of this record"),
        ({"type": "object", "properties": {}, "additionalProperties": True}, {"b": 1}, [], "expected object, got array"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, {"k": 1}, {"k": "v"}, "field 'k': expected number"),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, 1, "matches none of its 2 allowed forms"),
        ({"description": "annotations only", "default": 3}, {"anything": [1]}, None, None),
    ],
)
def test_each_keyword_accepts_and_refuses(schema, good, bad, message):
    assert _messages(schema, good) == []
    if message is None:
        assert _messages(schema, bad) == []
    else:
        found = _messages(schema, bad)
        assert found and message in found[0], found


def test_a_discriminated_union_reports_the_branch_its_kind_names():
    union = {
        "anyOf": [
            {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind", "x"], "additionalProperties": False},
            {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}, "required": ["kind", "y"], "additionalProperties": False},
        ]
    }
    assert _messages(union, {"kind": "b", "y": "s"}) == []
    assert _messages(union, {"kind": "b", "y": 3}) == ["field 'y': expected string, got number 3"]
    assert "matches none of its 2 allowed forms" in _messages(union, {"kind": "c"})[0]


def test_a_keyword_outside_the_generated_subset_is_refused_not_ignored():
    for keyword in ({"oneOf": []}, {"$ref": "#/x"}, {"multipleOf": 2}, {"patternProperties": {}}):
        with pytest.raises(SchemaError, match="outside the generated subset"):
            errors(keyword, 1)


def test_the_generated_schemas_use_only_the_validated_subset():
    """Walking every node of the committed schemas: no SchemaError anywhere (a document exercising all of them)."""
    def walk(node):
        assert not (set(node) - contract._ANNOTATIONS - contract._CHECKED), set(node)
        for key in ("items",):
            if isinstance(node.get(key), dict):
                walk(node[key])
        for child in node.get("properties", {}).values():
            walk(child)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"])
        for child in node.get("anyOf", []):
            walk(child)

    for name in (contract.MANIFEST_SCHEMA, contract.EXPORT_OPTIONS_SCHEMA):
        walk(contract.load_schema(name))


# ---- the manifests the writer produces ----


def test_there_are_committed_fixture_manifests_zoo_included():
    assert len(FIXTURE_MANIFESTS) > 300
    assert any("zoo" in p.parts for p in FIXTURE_MANIFESTS)


@pytest.mark.parametrize("path", FIXTURE_MANIFESTS, ids=lambda p: str(p.parent.relative_to(REPO_ROOT / "fixtures" / "bundles")))
def test_every_committed_bundle_manifest_matches_the_schema(path):
    validate(MANIFEST_SCHEMA, json.loads(path.read_text(encoding="utf-8")))


def test_fresh_exports_of_the_seed_models_match_the_schema(seed_exports):
    for export in seed_exports.values():
        validate(MANIFEST_SCHEMA, export.bundle.manifest)


def test_a_fresh_export_with_training_after_training_and_float64_sections_matches_the_schema(tmp_path, capsys, restore_sys_path):
    """Through the CLI's options document, as `keras-bridge export` runs it."""
    options = tmp_path / "options.json"
    options.write_text(json.dumps({
        "out": str(tmp_path / "training"), "factory": "training_model:training_model", "paths": [str(REPO_ROOT / "fixtures" / "models")],
        "batchSize": 4, "trainSteps": 1, "float64Reference": True, "kernelVariants": False,
    }))
    assert cli.main(["export", "--options-json", str(options)]) == 0, capsys.readouterr().err
    manifest = read_bundle(tmp_path / "training").manifest
    assert {"training", "after_training", "reference"} <= set(manifest["goldens"])
    validate(MANIFEST_SCHEMA, manifest)


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda m: m.pop("seed"), "seed"),
        (lambda m: m.__setitem__("batch_size", 0), "batch_size"),
        (lambda m: m["weights"][0].__setitem__("dtype", "float16"), "weights[0].dtype"),
        (lambda m: m["weights"][0]["shape"].__setitem__(0, -1), "weights[0].shape[0]"),
        (lambda m: m["goldens"]["tensors"][0].__setitem__("kind", "inputs"), "goldens.tensors[0]"),
        (lambda m: m["goldens"]["tensors"][0].__setitem__("offset", "0"), "goldens.tensors[0].offset"),
        (lambda m: m["layers"][0].__setitem__("invented", 1), "layers[0].invented"),
        (lambda m: m.__setitem__("format", "other"), "format"),
    ],
)
def test_a_broken_manifest_is_refused_naming_the_field(seed_exports, mutate, where):
    manifest = copy.deepcopy(seed_exports["swish"].bundle.manifest)
    mutate(manifest)
    with pytest.raises(ContractError) as info:
        validate(MANIFEST_SCHEMA, manifest)
    assert info.value.path == where, str(info.value)


def test_the_writer_refuses_to_write_a_manifest_that_breaks_the_format(tmp_path, monkeypatch):
    """A writer bug (here: a field TypeScript does not know) fails the export, naming the field; nothing written."""
    import keras_bridge.exporter as exporter

    build = exporter.build_manifest

    def buggy(**kwargs):
        manifest = build(**kwargs)
        manifest["goldens"]["tensors"][1]["invented"] = True
        return manifest

    monkeypatch.setattr(exporter, "build_manifest", buggy)
    with pytest.raises(ManifestContractError, match=r"field 'goldens\.tensors\[1\]\.invented': not a field of this record.*nothing was written"):
        keras_bridge.export(build_seed_model("swish"), tmp_path / "b")
    assert not (tmp_path / "b").exists()
