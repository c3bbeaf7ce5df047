// Teaches tfjs-node's binding (binding/tfjs_backend.cc) list-of-strings and list-of-types op
// attributes, which TensorFlow's fused kernels take (_FusedConv2D: fused_ops ["BiasAdd", "Relu"],
// TArgs [float]) and tfjs-node 4.22's attribute setter does not: it handles lists of ints, floats
// and bools only. build-native-backend.mjs applies this before compiling. Node builtins only.
//
// The insertion is keras-bridge's own code, placed at two anchors of the binding's source; when an
// anchor is missing (another tfjs-node), nothing is changed and the backend works without fused
// kernels (src/backends/kernel-fixes/tensorflow-fused.ts checks what the binding supports).
import fs from 'node:fs';

/** Marks a source already extended: applying again changes nothing. */
export const LIST_ATTRIBUTES_MARKER = '// keras-bridge: list attributes';

const STRING_LIST = `
      ${LIST_ATTRIBUTES_MARKER} (strings)
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<std::string> strings(length);
        std::vector<const void *> values(length);
        std::vector<size_t> lengths(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strings[i]);
          ENSURE_NAPI_OK(env, nstatus);
          values[i] = strings[i].data();
          lengths[i] = strings[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, values.data(), lengths.data(),
                                static_cast<int>(length));
        break;
      }`;

const TYPE_LIST = `
      ${LIST_ATTRIBUTES_MARKER} (types)
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<TF_DataType> types(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = napi_get_value_int32(env, element, reinterpret_cast<int32_t *>(&types[i]));
          ENSURE_NAPI_OK(env, nstatus);
        }
        TFE_OpSetAttrTypeList(tfe_op, attr_name, types.data(), static_cast<int>(length));
        break;
      }`;

const ANCHORS = [
  { anchor: '    case TF_ATTR_STRING: {', insertion: STRING_LIST },
  { anchor: '    case TF_ATTR_TYPE: {', insertion: TYPE_LIST },
];

/**
 * Extends the binding's source in place. Returns 'extended', 'already' (done before), or why it
 * could not ('anchor not found: ...'), in which case the file is left as it was.
 */
export function extendBindingSource(file) {
  const source = fs.readFileSync(file, 'utf8');
  if (source.includes(LIST_ATTRIBUTES_MARKER)) return 'already';
  let extended = source;
  for (const { anchor, insertion } of ANCHORS) {
    if (extended.split(anchor).length !== 2) return `anchor not found once in ${file}: ${anchor.trim()}`;
    extended = extended.replace(anchor, anchor + insertion);
  }
  if (!extended.includes('#include <vector>')) extended = extended.replace('#include <string>', '#include <string>\n#include <vector>');
  fs.writeFileSync(file, extended);
  return 'extended';
}
