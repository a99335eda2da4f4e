// CL-Detection 2023 landmark text files (k,x,y per line).
#include "cephtrace/ground_truth.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cephtrace::import_cl2023(cephtrace::fuzz::as_file(data, size, "_landmark.txt"));
  } catch (const std::exception&) {
  }
  return 0;
}
