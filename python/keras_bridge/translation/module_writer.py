"""Assembles the TypeScript module of one translated class (class_writer.py's sections)."""
from __future__ import annotations

from .names import local_name, ts_string

HEADER_IMPORTS = [
    "import * as tf from '@tensorflow/tfjs';",
    "import { z } from 'zod';",
    "import { TranslatedLayer, kops, py, registerActivation, registerLayer, type Kwargs, type TranslatedLayerArgs } from 'keras-bridge/runtime';",
]


def module_text(class_name: str, origin: str, result: dict, dependencies: list) -> str:
    sections = result["sections"]
    helpers = result["helpers"]
    lines = [
        "/**",
        f" * {class_name}, translated by keras-bridge from its Python source ({origin}).",
        " * Route 1 of docs/custom-layer-routes.md; keras.ops / tf / NumPy calls map through docs/translation-table.md.",
        " * Edit freely: a TypeScript class registered under this name always wins over a generated one.",
        " */",
        *HEADER_IMPORTS,
        *[f"import {{ {d} }} from './{d}.js';" for d in dependencies],
        "",
        f"export class {class_name} extends TranslatedLayer {{",
        f"  static readonly className = {ts_string(class_name)};",
    ]
    for name, ts in result["fields"].items():
        lines.append(f"  declare {name}: {ts};")
    if sections.get("constructor"):
        lines += ["", "  constructor(args: TranslatedLayerArgs) {", "    super(args);", *sections["constructor"], "  }"]
    if "build" in sections:
        lines += ["", "  override build(shapes: tf.Shape | tf.Shape[]): void {", *sections["build"], "    super.build(shapes);", "  }"]
    if "call" in sections:
        lines += [
            "",
            "  override call(tensors: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {",
            "    return tf.tidy(() => {",
            *drop_unused_training(sections["call"]),
            "    });",
            "  }",
        ]
    if "computeMask" in sections:
        lines += [
            "",
            "  override computeMask(tensors: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {",
            "    return this.maskResult(() => {",
            *sections["computeMask"],
            "    });",
            "  }",
        ]
    for name in helpers.order:
        record = helpers.translated[name]
        if record.get("module_level"):
            # A registered activation function: static, registered below by its Keras name.
            lines += ["", f"  static {local_name(record['name'])}({', '.join(record['params'])}): tf.Tensor {{", *record["lines"], "  }"]
            continue
        returns = {"tensor": "tf.Tensor", "number": "number", "bool": "boolean", "sequence": "any[]", "shape": "Array<number | null>"}.get(record["kind"], "any")
        if record["kind"] == "unknown" and not any(line.strip().startswith("return ") for line in record["lines"]):
            returns = "void"
        lines += ["", f"  private {local_name(name)}({', '.join(record['params'])}): {returns} {{", *record["lines"], "  }"]
    lines += ["}", ""]
    for keras_name, function in result["context"].activations.items():
        lines.append(f"registerActivation({ts_string(keras_name)}, {class_name}.{function}, {{ origin: 'translated' }});")
    schema = ", ".join(f"{key}: {zod}" for key, zod in result["schema"].items())
    shape = f"{{ {schema} }}" if schema else "{}"
    lines.append(f"registerLayer({ts_string(class_name)}, {class_name}, z.object({shape}), {{ pythonConfig: true, origin: 'translated' }});")
    return "\n".join(lines) + "\n"


def drop_unused_training(lines: list) -> list:
    """`const training = ...` is emitted for every call(); keep it only where it is read."""
    declaration = "const training = kops.trainingArg(kwargs);"
    used = any("training" in line and declaration not in line for line in lines)
    return lines if used else [line for line in lines if declaration not in line]
