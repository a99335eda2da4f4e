// The ONNX graph header reader (model input/output shapes, op types) used before loading.
#include <string>

#include "core/onnx_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cephtrace::inspect_onnx(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
  } catch (const std::exception&) {
  }
  return 0;
}
