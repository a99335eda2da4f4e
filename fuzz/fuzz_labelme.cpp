// LabelMe JSON annotations.
#include "cephtrace/ground_truth.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cephtrace::import_labelme(cephtrace::fuzz::as_file(data, size, ".json"));
  } catch (const std::exception&) {
  }
  return 0;
}
