// Teaches tfjs-node's binding (binding/tfjs_backend.cc) to hand a large tensor's values to
// JavaScript without copying them. tfjs-node 4.22 copies every read (dataSync, data, array) into a
// new, zero-filled ArrayBuffer; for ResNet50's 98 MB of gradients that costs 40-55 ms, most of it
// page faults on fresh memory, next to a 230 ms gradient graph. With this extension a read of
// ZERO_COPY_MIN_BYTES or more returns an ArrayBuffer over TensorFlow's own buffer; when V8
// collects the array, its deleter releases TensorFlow's reference.
//
// Why it is safe: TFE_TensorHandleResolve gives a TF_Tensor that holds a reference on the handle's
// buffer, so the memory lives as long as the array does, even after the tfjs tensor is disposed,
// and TensorFlow never reuses a buffer in place while another reference exists. What changes for
// the caller: the array is a view of the tensor's storage, as the cpu backend's reads already
// are, so writing into it changes the tensor (KERAS_BRIDGE_COPY_READS=1 brings the copies back).
//
// Applied by build-native-backend.mjs after binding-list-attributes.mjs, at one anchor of the
// binding's source and after its `#include <string>`; when either is missing (another tfjs-node),
// nothing is changed and reads copy as before. Node builtins only.
import fs from 'node:fs';

/** Marks a source already extended: applying again changes nothing. */
export const ZERO_COPY_MARKER = '// keras-bridge: zero-copy reads';

/**
 * Below this, a read copies: a backing store and its deleter cost more than copying a few
 * pages.
 */
export const ZERO_COPY_MIN_BYTES = 64 * 1024;

/** Set (not empty, not 0) before the first read: every read copies, as tfjs-node's do. */
export const COPY_READS_VARIABLE = 'KERAS_BRIDGE_COPY_READS';

// Inside CopyTFE_TensorHandleDataToTypedArray, right after the byte length is known. `tensor` is
// the TF_AutoTensor that owns the resolved TF_Tensor; ownership moves to the backing store's deleter.
export const ZERO_COPY_ANCHOR = `  size_t byte_length = TF_TensorByteSize(tensor.tensor);

  napi_value array_buffer_value;
  void *array_buffer_data;`;

const INSERTION = `
  ${ZERO_COPY_MARKER}
#if !defined(V8_ENABLE_SANDBOX)
  // ${COPY_READS_VARIABLE}=1 (read once, at the first read) keeps tfjs-node's copies: for code
  // that writes into the arrays it reads and uses the tensor after.
  static const bool keras_bridge_copy_reads = [] {
    const char *setting = std::getenv("${COPY_READS_VARIABLE}");
    return setting != nullptr && setting[0] != '\\0' && std::strcmp(setting, "0") != 0;
  }();
  if (!keras_bridge_copy_reads && byte_length >= ${ZERO_COPY_MIN_BYTES} && TF_TensorData(tensor.tensor) != nullptr) {
    TF_Tensor *owned = tensor.tensor;
    // V8's own backing store, not napi_create_external_arraybuffer: Node runs that one's finalizer
    // from the event loop, so a synchronous loop of reads would hold every dropped buffer until it
    // returns. V8 calls this deleter when it sweeps the buffer, on any thread (TF_DeleteTensor
    // only drops a reference), and paces its collections by the buffer's size as for a copy.
    std::unique_ptr<v8::BackingStore> store = v8::ArrayBuffer::NewBackingStore(
        TF_TensorData(owned), byte_length,
        [](void *, size_t, void *deleter_data) {
          TF_DeleteTensor(static_cast<TF_Tensor *>(deleter_data));
        },
        owned);
    tensor.tensor = nullptr;
    v8::Local<v8::ArrayBuffer> buffer =
        v8::ArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store));
    // A napi_value is a v8::Local's slot (Node's JsValueFromV8LocalValue); the napi callback's
    // handle scope keeps it alive.
    napi_value buffer_value;
    static_assert(sizeof(buffer_value) == sizeof(buffer), "napi_value is a v8::Local");
    std::memcpy(&buffer_value, &buffer, sizeof(buffer));
    napi_status view_status = napi_create_typedarray(
        env, array_type, num_elements, buffer_value, 0, result);
    ENSURE_NAPI_OK(env, view_status);
    return;
  }
#endif
`;

const INCLUDE_ANCHOR = '#include <string>';

/** Whether a binding source has been extended. */
export function hasZeroCopyReads(source) {
  return source.includes(ZERO_COPY_MARKER);
}

/**
 * Extends the binding's source in place. Returns 'extended', 'already' (done before), or why it
 * could not ('anchor not found: ...'), in which case the file is left as it was.
 */
export function extendBindingSourceWithZeroCopyReads(file) {
  const source = fs.readFileSync(file, 'utf8');
  if (hasZeroCopyReads(source)) return 'already';
  if (source.split(ZERO_COPY_ANCHOR).length !== 2) return `anchor not found once in ${file}: the byte length and buffer of CopyTFE_TensorHandleDataToTypedArray`;
  if (source.split(INCLUDE_ANCHOR).length !== 2) return `anchor not found once in ${file}: ${INCLUDE_ANCHOR}`;
  // TF_DeleteTensor(nullptr) does nothing, so the TF_AutoTensor's destructor stays correct.
  const [first, ...rest] = ZERO_COPY_ANCHOR.split('\n');
  const extended = source.replace(INCLUDE_ANCHOR, `${INCLUDE_ANCHOR}\n#include <cstdlib>\n#include <v8.h>`).replace(ZERO_COPY_ANCHOR, `${first}\n${INSERTION}${rest.join('\n')}`);
  fs.writeFileSync(file, extended);
  return 'extended';
}
