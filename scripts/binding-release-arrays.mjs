// Teaches tfjs-node's binding (binding/tfjs_binding.cc) to free arrays that JavaScript has read
// and is done with, at once: `releaseArrayBuffers(buffers)` detaches each ArrayBuffer it may
// (napi_detach_arraybuffer), which drops its memory there and then; for a zero-copy read
// (binding-zero-copy-reads.mjs) that releases TensorFlow's reference to its buffer.
//
// Why: V8 frees an ArrayBuffer only when it collects the array, and it paces its full collections
// by the bytes such buffers hold. A loop that reads 14 MB of gradients a pass (MobileNetV2) ran a
// full collection every third pass and lost 10-20% to them; Python's reference counts free the
// same arrays as the loop drops them. Node 20 has no other way to detach a buffer:
// ArrayBuffer.prototype.transfer arrives with V8 11.4 (Node 21). src/backends/released-reads.ts
// decides which arrays are the caller's to free; this function frees whatever it is given.
//
// Applied by build-native-backend.mjs, at two anchors of the binding's module source; when either
// is missing (another tfjs-node), nothing is changed and arrays are freed when V8 collects them.
// Node builtins only.
import fs from 'node:fs';

/** Marks a source already extended: applying again changes nothing. */
export const RELEASE_ARRAYS_MARKER = '// keras-bridge: release arrays';

/** The name JavaScript calls it by on the binding. */
export const RELEASE_FUNCTION = 'releaseArrayBuffers';

// The function goes before the module's init function, its export after the last export of 4.22.
export const FUNCTION_ANCHOR = 'static napi_value InitTFNodeJSBinding(napi_env env, napi_value exports) {';
export const EXPORT_ANCHOR = `      {"getNumOfTensors", nullptr, GetNumOfTensors, nullptr, nullptr,
       nullptr, napi_default, nullptr},
`;

const FUNCTION = `${RELEASE_ARRAYS_MARKER}
// ${RELEASE_FUNCTION}(buffers: ArrayBuffer[]): number. Detaches every element that is an
// ArrayBuffer V8 lets go of (not already detached, not a WebAssembly.Memory's) and returns how many
// it detached; anything else is left as it is.
static napi_value ReleaseArrayBuffers(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_status nstatus = napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, args[0], &is_array) != napi_ok || !is_array) {
    NAPI_THROW_ERROR(env, "${RELEASE_FUNCTION} takes an array of ArrayBuffers");
    return nullptr;
  }
  uint32_t length = 0;
  nstatus = napi_get_array_length(env, args[0], &length);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  uint32_t released = 0;
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    nstatus = napi_get_element(env, args[0], i, &element);
    ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
    bool is_buffer = false;
    bool detached = false;
    if (napi_is_arraybuffer(env, element, &is_buffer) != napi_ok || !is_buffer) continue;
    if (napi_is_detached_arraybuffer(env, element, &detached) != napi_ok || detached) continue;
    // A buffer V8 may not detach answers napi_detachable_arraybuffer_expected, without throwing.
    if (napi_detach_arraybuffer(env, element) == napi_ok) released++;
  }
  napi_value result;
  nstatus = napi_create_uint32(env, released, &result);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  return result;
}

`;

const EXPORT = `      {"${RELEASE_FUNCTION}", nullptr, ReleaseArrayBuffers, nullptr, nullptr,
       nullptr, napi_default, nullptr},
`;

/** Whether a binding module source has been extended. */
export function hasReleaseArrays(source) {
  return source.includes(RELEASE_ARRAYS_MARKER);
}

/**
 * Extends the binding's module source (tfjs_binding.cc) in place. Returns 'extended', 'already'
 * (done before), or why it could not ('anchor not found: ...'), in which case the file is left as
 * it was.
 */
export function extendBindingSourceWithReleaseArrays(file) {
  const source = fs.readFileSync(file, 'utf8');
  if (hasReleaseArrays(source)) return 'already';
  for (const [anchor, what] of [[FUNCTION_ANCHOR, 'the module init function'], [EXPORT_ANCHOR, 'the getNumOfTensors export']]) {
    if (source.split(anchor).length !== 2) return `anchor not found once in ${file}: ${what}`;
  }
  const extended = source.replace(FUNCTION_ANCHOR, `${FUNCTION}${FUNCTION_ANCHOR}`).replace(EXPORT_ANCHOR, `${EXPORT_ANCHOR}${EXPORT}`);
  fs.writeFileSync(file, extended);
  return 'extended';
}
