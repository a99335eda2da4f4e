// The ONNX graph header reader (model input/output shapes, op types) used before loading.
#include "core/onnx_model.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cephtrace::inspect_onnx(cephtrace::fuzz::as_file(data, size, ".onnx"));
  } catch (const std::exception&) {
  }
  return 0;
}
